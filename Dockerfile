# Budget in a container. Not built or run in this project's CI (no container engine there).
FROM swift:6.1-bookworm AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources Sources
COPY Tests Tests
RUN swift build -c release --product budget

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libcurl4 libxml2 tzdata ca-certificates postgresql \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/lib/swift/linux/*.so* /usr/lib/swift/linux/
RUN echo /usr/lib/swift/linux > /etc/ld.so.conf.d/swift.conf && ldconfig
WORKDIR /app
COPY --from=build /src/.build/release/budget /app/budget
COPY sql /app/sql
ENV BUDGET_HOST=0.0.0.0 BUDGET_PORT=8013 BUDGET_DATA_DIR=/data
VOLUME /data
EXPOSE 8013
ENTRYPOINT ["/app/budget"]
CMD ["serve"]
