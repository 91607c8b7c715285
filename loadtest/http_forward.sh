#!/usr/bin/env bash
# Load test: OTLP/HTTP protobuf in, fan-out to two OTLP/HTTP backends, through the real binary,
# against nginx doing the same forwarding (proxy_pass + mirror, no parsing) as the baseline.
# Reports requests/s and the CPU-seconds each process spent per GiB received (utime + stime from
# /proc, so other load on the machine does not inflate it).
#
#   loadtest/http_forward.sh [SIGNAL=metrics] [SECONDS=20] [CONNECTIONS=16]
#
# Needs a built tree (./script/test or ./script/server builds it); installs wrk and nginx-light
# with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
signal=${1:-metrics}
seconds=${2:-20}
conns=${3:-16}
bin=build/server/otlpgate
[ -x "$bin" ] || { echo "build first: ./script/test (or cmake --build build)"; exit 1; }

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if ((${#need[@]})); then
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd=sudo
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

cmake --build build --target make_payloads >/dev/null
build/bench/make_payloads "$work"
payload="$work/$signal.pb"
bytes=$(stat -c %s "$payload")

# Two sinks (the "backends") and the nginx baseline, in one nginx with one worker per role.
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
error_log $work/nginx/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  client_max_body_size 64m;
  client_body_buffer_size 1m;
  server { listen 127.0.0.1:19318; location / { return 200; } }
  server { listen 127.0.0.1:19319; location / { return 200; } }
}
CONF
cat >"$work/nginx/proxy.conf" <<CONF
worker_processes 1;
error_log $work/nginx/proxy-error.log warn;
pid $work/nginx/proxy.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/pbody;
  proxy_temp_path $work/nginx/pproxy;
  client_max_body_size 64m;
  client_body_buffer_size 1m;
  upstream a { server 127.0.0.1:19318; keepalive 32; }
  upstream b { server 127.0.0.1:19319; keepalive 32; }
  server {
    listen 127.0.0.1:24319;
    location / {
      mirror /mirror;
      proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://a;
    }
    location = /mirror {
      internal;
      proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://b\$request_uri;
    }
  }
}
CONF
"$nginx_bin" -c "$work/nginx/nginx.conf" -g 'daemon off;' & pids+=($!)
"$nginx_bin" -c "$work/nginx/proxy.conf" -g 'daemon off;' & pids+=($!)

cat >"$work/otlpgate.yaml" <<CONF
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:24318 }
exporters:
  otlphttp/a: { endpoint: "http://127.0.0.1:19318", compression: none }
  otlphttp/b: { endpoint: "http://127.0.0.1:19319", compression: none }
extensions:
  health_check: { endpoint: 127.0.0.1:23133 }
service:
  extensions: [health_check]
  pipelines:
    $signal: { receivers: [otlp], exporters: [otlphttp/a, otlphttp/b] }
CONF
"$bin" --config "$work/otlpgate.yaml" 2>"$work/otlpgate.log" & gw=$!; pids+=($gw)
for _ in $(seq 100); do curl -sf http://127.0.0.1:23133/ >/dev/null && break; sleep 0.1; done
sleep 0.5

cpu_ticks() {  # utime + stime of the given pids, in clock ticks
  local t=0
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$t"
}
proxy_workers() { pgrep -f "nginx: worker process" -P "$(cat "$work/nginx/proxy.pid")" || true; }
hz=$(getconf CLK_TCK)

run() {  # run NAME URL PIDS...
  local name=$1 url=$2; shift 2
  local before after out
  before=$(cpu_ticks "$@")
  out=$(PAYLOAD="$payload" wrk -t2 -c"$conns" -d"${seconds}s" -s loadtest/post.lua "$url/v1/$signal")
  after=$(cpu_ticks "$@")
  local rps non200
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  non200=$(awk -F= '/^non_200=/ {print $2}' <<<"$out")
  local total_req
  total_req=$(awk '/requests in/ {print $1}' <<<"$out")
  awk -v n="$name" -v rps="$rps" -v req="$total_req" -v b="$bytes" -v t=$((after - before)) -v hz="$hz" -v bad="$non200" \
    'BEGIN { gib = req * b / 2^30; cpu = t / hz;
             printf "%-8s %10.0f req/s %8.1f MiB/s in  %7.2f CPU-s  %6.2f CPU-s/GiB  non-200: %s\n",
                    n, rps, rps * b / 2^20, cpu, cpu / gib, bad }'
}

echo "payload: $signal, $bytes bytes per request; $conns connections, ${seconds}s each; fan-out to 2 backends"
# PERF_OUT=file: also record a CPU profile of the gateway during its run.
[ -n "${PERF_OUT:-}" ] && { perf record -g -p "$gw" -o "$PERF_OUT" -- sleep $((seconds / 2)) >/dev/null 2>&1 & }
run otlpgate http://127.0.0.1:24318 "$gw"
# nginx's master does no request work; count its worker.
run nginx http://127.0.0.1:24319 $(proxy_workers)
curl -s http://127.0.0.1:23133/metrics | grep -E '^otlpgate_(exporter|receiver)_[a-z_]*(items|requests|drop)[a-z_]*\{' | head -20 || true
