"""Tests of the example resource, over HTTP against the app."""
