"""Persistence: pickling (``pickling``) and the pickle-free safe format (``safe_format``).

``pickling`` sits below the estimators (they inherit its mixin); ``codec`` and
``safe_format`` sit above them and import them. This file imports neither,
so that the estimators can import ``pickling`` without a circle.
"""
