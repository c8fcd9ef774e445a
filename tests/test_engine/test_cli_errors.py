"""Tools end bad input with one ``error:`` line, not a traceback."""
import pytest

from cg3d_mm.engine.cli import exit_on_bad_input


@pytest.mark.parametrize('exc', [ValueError, OSError, KeyError])
def test_bad_input_is_one_error_line_and_exit_code_1(exc, capsys):

    def main():
        raise exc('data/x.npy: expected (N, 3) points')

    with pytest.raises(SystemExit) as stop:
        exit_on_bad_input(main)
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'data/x.npy' in err
    assert err.count('\n') == 1


def test_other_errors_keep_their_traceback():
    """A bug is not bad input: it must not be hidden behind one line."""

    def main():
        raise RuntimeError('a bug')

    with pytest.raises(RuntimeError, match='a bug'):
        exit_on_bad_input(main)
