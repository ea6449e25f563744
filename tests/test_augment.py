import torch

from skdeepclust.augment import (
    ImageAugment,
    TabularAugment,
    color_jitter,
    feature_mask,
    gaussian_noise,
    random_grayscale,
    random_hflip,
    random_resized_crop,
)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_tabular_augment_statistics_and_seed():
    x = torch.randn(2000, 5, generator=gen(1)) * torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    aug = TabularAugment(noise=0.0, mask_prob=0.3).fit(x)
    out = aug(x, gen())
    masked = out != x
    assert abs(masked.float().mean().item() - 0.3) < 0.03
    assert torch.allclose(out[masked], aug.mean_.expand_as(x)[masked])
    noisy = TabularAugment(noise=0.5, mask_prob=0.0).fit(x)
    diff = noisy(x, gen()) - x
    assert torch.allclose(diff.std(0), 0.5 * x.std(0), rtol=0.1)
    assert torch.equal(noisy(x, gen(3)), noisy(x, gen(3)))


def test_gaussian_noise_and_mask_shapes():
    x = torch.zeros(4, 3)
    assert gaussian_noise(x, 0.0, gen()).equal(x)
    assert feature_mask(x + 1, 1.0, gen(), fill=7.0).eq(7.0).all()


def test_crop_full_scale_is_identity():
    img = torch.rand(3, 1, 8, 8, generator=gen())
    out = random_resized_crop(img, gen(), scale=(1.0, 1.0), ratio=(1.0, 1.0))
    assert torch.allclose(out, img, atol=1e-5)


def test_crop_changes_images_and_keeps_shape():
    img = torch.rand(6, 3, 16, 16, generator=gen())
    out = random_resized_crop(img, gen(), scale=(0.1, 0.3))
    assert out.shape == img.shape and not torch.allclose(out, img)


def test_hflip_probability_extremes():
    img = torch.arange(8.0).reshape(1, 1, 2, 4).repeat(5, 1, 1, 1)
    assert random_hflip(img, gen(), p=1.0).equal(img.flip(-1))
    assert random_hflip(img, gen(), p=0.0).equal(img)


def test_grayscale_and_jitter():
    rgb = torch.rand(4, 3, 5, 5, generator=gen())
    g = random_grayscale(rgb, gen(), p=1.0)
    assert torch.allclose(g[:, 0], g[:, 1]) and torch.allclose(g[:, 1], g[:, 2])
    gray1 = torch.rand(4, 1, 5, 5, generator=gen())
    assert random_grayscale(gray1, gen(), p=1.0).equal(gray1)
    j = color_jitter(rgb, gen(), p=1.0)
    assert j.min() >= 0 and j.max() <= 1 and not torch.allclose(j, rgb)
    assert color_jitter(rgb, gen(), p=0.0).equal(rgb)


def test_image_augment_flattened_rows():
    x = torch.rand(10, 2 * 8 * 8, generator=gen())
    aug = ImageAugment(image_shape=(2, 8, 8))
    a, b = aug(x, gen(5)), aug(x, gen(5))
    assert a.shape == x.shape and torch.equal(a, b)
