#!/usr/bin/env bash
# A Docker engine of its own for the Docker test suite, in one folder that nothing
# else uses, so that it neither meets nor leaves behind a system-wide daemon:
#
#   scripts/docker-engine.sh start DIR   # dockerd with DIR/data, DIR/exec, DIR/docker.sock
#   scripts/docker-engine.sh stop DIR    # stops it, unmounts what it left, removes DIR
#   scripts/docker-engine.sh env DIR     # prints `export DOCKER_HOST=...` for eval
#
# dockerd runs as root with --iptables=false --ip6tables=false --bridge=none: the
# containers of the suite run with --network none (builds with --network host), so the
# engine needs no NAT rules and no docker0 bridge (on machines where iptables cannot
# be changed, it would otherwise not start at all).
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|env DIR (DIR: a folder of the engine's own, created by start)" >&2
  exit 2
}

[ $# -eq 2 ] || usage
action=$1
dir=$2
case "$dir" in
  /*) ;;
  *) dir="$PWD/$dir" ;;
esac
socket="$dir/docker.sock"
pidfile="$dir/dockerd.pid"
log="$dir/dockerd.log"
# How long start waits for `docker info` to answer, and stop for dockerd to exit.
start_timeout=${DOCKER_ENGINE_START_TIMEOUT:-60}
stop_timeout=${DOCKER_ENGINE_STOP_TIMEOUT:-60}

docker_cli() {
  DOCKER_HOST="unix://$socket" docker "$@"
}

running_pid() {
  local pid file
  for file in "$pidfile" "$dir/dockerd.launched"; do
    [ -f "$file" ] || continue
    pid=$(cat "$file")
    # Only a dockerd: a pid left in a file may since belong to another process.
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}

# Mount points at or under DIR, deepest first (overlay2 layers, the containers' shm,
# netns files under exec-root): an engine that was killed leaves them behind, and
# `rm -rf` cannot remove a folder that is still mounted.
mounts_under_dir() {
  # Field 5 of /proc/self/mountinfo is the mount point (proc(5)); octal escapes such as
  # \040 stand for spaces, which DIR does not contain when made by this script.
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

cleanup_dir() {
  local m
  for _ in 1 2 3; do
    while read -r m; do
      [ -n "$m" ] || continue
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done < <(mounts_under_dir)
    [ -z "$(mounts_under_dir)" ] && break
  done
  rm -rf "$dir"
}

start() {
  if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
    echo "docker-engine: dockerd or docker not found; install them (Debian: apt-get install docker.io)" >&2
    exit 1
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "docker-engine: dockerd must run as root here (it mounts overlay2 layers and makes cgroups)" >&2
    exit 1
  fi
  if pid=$(running_pid); then
    echo "docker-engine: dockerd already runs for $dir (pid $pid)" >&2
    exit 1
  fi
  # A unix socket path is at most 107 bytes (unix(7)); containerd's socket sits two
  # levels below the exec root.
  if [ ${#dir} -gt 60 ]; then
    echo "docker-engine: DIR is ${#dir} characters long; use one of at most 60 (unix socket paths are short)" >&2
    exit 2
  fi
  cleanup_dir
  mkdir -p "$dir/data" "$dir/exec"
  # setsid: dockerd and its containerd leave this shell's process group, so a Ctrl-C
  # meant for the test run does not tear the engine down half-way.
  setsid dockerd \
    --iptables=false --ip6tables=false --bridge=none \
    --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$pidfile" \
    -H "unix://$socket" >"$log" 2>&1 </dev/null &
  # stop reads the pid file, which dockerd writes only once it is under way; a start
  # that fails before then is stopped through this pid.
  echo $! >"$dir/dockerd.launched"
  local started=$SECONDS
  until docker_cli info >/dev/null 2>&1; do
    if [ $((SECONDS - started)) -ge "$start_timeout" ]; then
      echo "docker-engine: dockerd did not answer within ${start_timeout}s; the end of $log:" >&2
      tail -n 30 "$log" >&2 || true
      stop
      exit 1
    fi
    if ! kill -0 $! 2>/dev/null; then
      echo "docker-engine: dockerd exited while starting; the end of $log:" >&2
      tail -n 30 "$log" >&2 || true
      cleanup_dir
      exit 1
    fi
    sleep 0.5
  done
  echo "docker-engine: dockerd $(docker_cli version --format '{{.Server.Version}}') answers on unix://$socket" \
    "(storage $(docker_cli info --format '{{.Driver}}'), cgroup v$(docker_cli info --format '{{.CgroupVersion}}'))" >&2
}

stop() {
  local pid killed=0 stopping=$SECONDS
  if pid=$(running_pid); then
    # SIGTERM: dockerd stops the containers it still runs and its containerd, then
    # exits; SIGKILL only when it has not within the timeout.
    kill -TERM "$pid" 2>/dev/null || true
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
      if [ "$waited" -ge $((stop_timeout * 10)) ]; then
        echo "docker-engine: dockerd (pid $pid) still runs after ${stop_timeout}s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
        killed=1
        break
      fi
      sleep 0.1
      waited=$((waited + 1))
    done
  fi
  # A dockerd that had to be killed leaves its containerd, the shims and the
  # containers running; their pid files are under the exec root.
  local p
  [ "$killed" = 1 ] && for p in $(find "$dir/exec" -name '*.pid' -type f 2>/dev/null); do
    pid=$(cat "$p" 2>/dev/null || true)
    case "$pid" in '' | *[!0-9]*) continue ;; esac
    kill -KILL "$pid" 2>/dev/null || true
  done
  cleanup_dir
  echo "docker-engine: stopped and $dir removed in $((SECONDS - stopping))s" >&2
}

case "$action" in
  start) start ;;
  stop) stop ;;
  env) echo "export DOCKER_HOST=unix://$socket" ;;
  *) usage ;;
esac
