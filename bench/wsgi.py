"""WSGI entry point of the benchmark server: ``gunicorn bench.wsgi:app``."""

from bench.app import create_bench_app

app = create_bench_app()
