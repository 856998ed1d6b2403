"""{{ cookiecutter.__service_name }}: the service package."""

from importlib.metadata import PackageNotFoundError, version

SERVICE_NAME = "{{ cookiecutter.__service_name }}"

try:
    __version__ = version(SERVICE_NAME)
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
