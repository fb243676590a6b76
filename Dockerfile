# The service image: one image, three roles (serve, scheduler, project) chosen by the command.
FROM python:3.11-slim
WORKDIR /srv/zhanyou
COPY pyproject.toml constraints.txt README.md ./
COPY domain domain
COPY application application
COPY projections projections
COPY api api
COPY scheduler scheduler
COPY cli cli
COPY node node
RUN pip install --no-cache-dir -c constraints.txt . && useradd --system zhanyou
USER zhanyou
ENTRYPOINT ["zhanyou"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
