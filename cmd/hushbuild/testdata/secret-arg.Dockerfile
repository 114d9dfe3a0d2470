FROM python:3.12-slim
WORKDIR /app
ARG PYPI_TOKEN
RUN pip install --index-url https://__token__:${PYPI_TOKEN}@pypi.example.com/simple private-pkg
COPY .netrc /root/.netrc
RUN pip install other-pkg
COPY . .
