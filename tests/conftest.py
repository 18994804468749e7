import pytest

from tests.pets import spec_writer


@pytest.fixture
def write_spec(tmp_path):
    return spec_writer(tmp_path)
