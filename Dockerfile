# musicd in a container: slim Python with Debian's ffmpeg, running as a non-root user.
#   docker build -t musicd .
#   docker run -p 4747:4747 -v musicd-data:/data -v ~/Music:/music:ro musicd
#   docker exec -it <container> musicd user add admin --role admin
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 1000 musicd \
 && useradd --system --uid 1000 --gid musicd --home-dir /data --shell /usr/sbin/nologin musicd

WORKDIR /app
COPY pyproject.toml README.md ./
COPY musicd ./musicd
COPY migrations ./migrations
COPY web ./web
RUN pip install --no-cache-dir . \
 && mkdir -p /data /music \
 && chown musicd:musicd /data

ENV MUSICD_SERVER_HOST=0.0.0.0 \
    MUSICD_SERVER_PORT=4747 \
    MUSICD_DATA_DIR=/data \
    MUSICD_LIBRARY_FOLDERS=/music \
    MUSICD_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1

USER musicd
VOLUME ["/data", "/music"]
EXPOSE 4747
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:4747/health', timeout=4).status == 200 else 1)"
CMD ["musicd", "serve"]
