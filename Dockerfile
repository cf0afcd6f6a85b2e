# A minimal production image: `docker build -t divolte-collector . && docker run -p 8290:8290 divolte-collector`
# Mount your configuration at /etc/divolte/divolte-collector.conf (DIVOLTE_CONF_DIR points there).
FROM python:3.11-slim

RUN useradd --create-home --uid 10001 divolte
WORKDIR /app
COPY pyproject.toml README.md ./
COPY collector ./collector
# collector/resources/divolte.js links to the tracker's source in static/.
COPY static/divolte.js ./static/divolte.js
RUN pip install --no-cache-dir . && mkdir -p /etc/divolte /data && chown divolte /data

USER divolte
WORKDIR /data
ENV DIVOLTE_CONF_DIR=/etc/divolte
EXPOSE 8290
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8290/ping', timeout=2).status == 200 else 1)"
# Bind to all interfaces inside the container (Divolte's default is loopback only).
CMD ["divolte-collector", "--host", "0.0.0.0"]
