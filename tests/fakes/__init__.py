"""Fake servers for tests: Twilio's Messages API and an SMTP server, both real network
endpoints on 127.0.0.1, so the code under test runs its real client libraries.

Their pytest fixtures (``fake_twilio``, ``fake_smtp``, ``self_signed``) live in
``fakes.fixtures``. A test package takes them with a conftest.py that re-exports them, as
tests/notify/conftest.py does, or the whole suite with ``pytest_plugins = ["fakes.fixtures"]``
in tests/conftest.py. (``fakes`` is importable as the other test packages are: tests/ is on
sys.path.)"""
