import pytest


@pytest.fixture(scope="session")
def renderer():
    from airap.render import Renderer

    return Renderer("kokoro", threads=2)
