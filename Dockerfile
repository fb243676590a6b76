# The service image: one image, every role (serve, scheduler, project) chosen by the command.
FROM python:3.11-slim
# tzdata: the business calendar is Asia/Shanghai; the zone database comes from the system.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/zhanyou
COPY pyproject.toml constraints.txt README.md ./
COPY domain domain
COPY application application
COPY projections projections
COPY api api
COPY scheduler scheduler
COPY cli cli
COPY node node
RUN pip install --no-cache-dir -c constraints.txt . \
    && useradd --system --uid 10001 --home-dir /srv/zhanyou zhanyou \
    && mkdir -p /srv/zhanyou/data && chown zhanyou /srv/zhanyou/data
USER zhanyou
ENV PYTHONUNBUFFERED=1
EXPOSE 8000
# Ready means: the store takes a write and no view is stalled (answers within 2 s either way).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["zhanyou"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
