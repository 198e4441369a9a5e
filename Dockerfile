# One image for every process of backtick: web (the default command), worker and
# scheduler. docker-compose.yml runs all three from it.
FROM python:3.11-slim

# DEBUG is off unless a deployment turns it on, so a container started without a
# SECRET_KEY refuses to run. Gunicorn reads its worker count from WEB_CONCURRENCY.
ENV DEBUG=0 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WEB_CONCURRENCY=2

WORKDIR /app

# Dependencies first, so that a change to the code alone reuses this layer.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Settings refuse to load with DEBUG off and no SECRET_KEY; this key exists only for
# this step and is not kept in the image's environment.
RUN SECRET_KEY=build-only-not-a-secret python manage.py collectstatic --noinput

# The code and the static files stay owned by root: the service only reads them.
RUN useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin backtick
USER backtick

EXPOSE 5000

CMD ["gunicorn", "backtick_site.wsgi", "--bind", "0.0.0.0:5000", "--access-logfile", "-"]
