import torch

from skdeepclust.augment import (
    ImageAugment,
    NeighborSwap,
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


def test_neighbor_swap_takes_entries_from_one_nearest_row():
    x = torch.randn(300, 6, generator=gen(2))
    swap = NeighborSwap(p=0.5, n_neighbors=3).fit(x)
    nearest = torch.cdist(x, x).topk(4, largest=False).indices[:, 1:]
    assert torch.equal(swap.neighbors_.sort(1).values, nearest.sort(1).values)
    idx = torch.arange(300).flip(0)  # rows by index, in any order
    out = swap(x, idx, gen())
    rows = x[idx]
    changed = out != rows
    assert abs(changed.float().mean().item() - 0.5) < 0.05
    for i, r in enumerate(idx.tolist()):  # every swapped entry of a copy comes from one of the row's 3 nearest rows
        sources = [j for j in nearest[r].tolist() if torch.equal(out[i][changed[i]], x[j][changed[i]])]
        assert sources
    assert torch.equal(swap(x, idx, gen(5)), swap(x, idx, gen(5)))
    assert torch.equal(NeighborSwap(p=0.0).fit(x)(x, idx, gen()), rows)
    one = torch.ones(1, 6)
    assert torch.equal(NeighborSwap().fit(one)(one, torch.zeros(1, dtype=torch.long), gen()), one)


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
