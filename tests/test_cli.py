"""``python -m skdeepclust``: its help and its errors are for people, not tracebacks."""

import pytest
import torch

from skdeepclust.__main__ import main


def test_help_is_plain_text(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "digits" in out and "``" not in out


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cuda_without_a_gpu_is_a_one_line_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--device", "cuda"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "CUDA is not available" in err and "Traceback" not in err


def test_unknown_method(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--methods", "KMeansPlus"])
    assert exc.value.code == 2 and "unknown method" in capsys.readouterr().err
