FROM alpine
RUN echo api
