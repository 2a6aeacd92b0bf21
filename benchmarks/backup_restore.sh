#!/usr/bin/env bash
# Backup and restore cost (not a test): mattermost-backup against the floor of
# plain pg_dump -Fc / pg_restore and tar of the same data, on a host the
# mattermost_server role deployed with a local database and at least one post.
# Run it as root ON A TEST HOST ONLY: it adds BENCH_POSTS posts (copies of an
# existing one) and BENCH_MB MB of random files under data/bench/, stops
# Mattermost, restores the database twice and starts it again. Prints a table.
#   docker exec mm-upgrade bash /path/benchmarks/backup_restore.sh
#   (or copy it to the host) BENCH_POSTS=10000 BENCH_MB=100 by default.
set -euo pipefail

posts="${BENCH_POSTS:-10000}"
megabytes="${BENCH_MB:-100}"
service="${BENCH_SERVICE:-mattermost}"
settings="/etc/mattermost/${service}.backup.json"
tool=/usr/local/sbin/mattermost-backup
work="$(mktemp -d /var/tmp/mm-bench.XXXXXX)"
trap 'rm -rf "${work}"; systemctl start "${service}"' EXIT

read_setting() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "${settings}" "$1"; }
config_file="$(read_setting config_file)"
data_dir="$(read_setting data_dir)"
# libpq variables from config.json's DataSource (the tool's own parser).
eval "$(python3 - "${config_file}" <<'PY'
import importlib.machinery, json, shlex, sys
tool = importlib.machinery.SourceFileLoader('mb', '/usr/local/sbin/mattermost-backup').load_module()
env = tool.parse_datasource(json.load(open(sys.argv[1]))['SqlSettings']['DataSource'])
print('\n'.join('export %s=%s' % (k, shlex.quote(v)) for k, v in env.items()))
PY
)"
now() { date +%s.%N; }
since() { python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$(now)"; }
size_mb() { du -sb "$@" | awk '{s += $1} END {printf "%.1f", s / 1048576}'; }
as_postgres() { env -u PGHOST -u PGPORT -u PGUSER -u PGPASSWORD -u PGDATABASE runuser -u postgres -- "$@"; }
recreate_db() {
  as_postgres dropdb --force "${PGDATABASE}"
  as_postgres createdb -O "${PGUSER}" -E UTF8 -T template0 "${PGDATABASE}"
  as_postgres psql -q -d "${PGDATABASE}" -c "ALTER SCHEMA public OWNER TO \"${PGUSER}\""
}

echo "seeding ${posts} posts and ${megabytes} MB of files" >&2
psql -X -q -v ON_ERROR_STOP=1 -c "
  INSERT INTO posts
  SELECT (jsonb_populate_record(NULL::posts, to_jsonb(p) || jsonb_build_object(
           'id', substr(md5('bench' || g), 1, 26), 'message', 'benchmark post ' || g))).*
  FROM (SELECT * FROM posts ORDER BY createat LIMIT 1) p, generate_series(1, ${posts}) g
  ON CONFLICT (id) DO NOTHING"
mkdir -p "${data_dir}/bench"
for i in $(seq 1 "${megabytes}"); do head -c 1048576 /dev/urandom >"${data_dir}/bench/file-${i}.bin"; done
chown -R "$(read_setting user):$(read_setting group)" "${data_dir}/bench"
sync

t="$(now)"; out="$("${tool}" --settings "${settings}" create --reason benchmark)"; tool_backup="$(since "${t}")"
set_dir="$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["path"])' "${out}")"
tool_size="$(size_mb "${set_dir}")"

t="$(now)"
pg_dump -Fc -f "${work}/floor.dump"
tar -czf "${work}/floor-data.tar.gz" -C "$(dirname "${data_dir}")" "$(basename "${data_dir}")"
floor_backup="$(since "${t}")"
floor_size="$(size_mb "${work}/floor.dump" "${work}/floor-data.tar.gz")"

systemctl stop "${service}"
t="$(now)"
recreate_db
"${tool}" --settings "${settings}" restore "${set_dir}" --part db >/dev/null
"${tool}" --settings "${settings}" restore "${set_dir}" --part files >/dev/null
tool_restore="$(since "${t}")"

t="$(now)"
recreate_db
pg_restore --no-owner --no-privileges --exit-on-error -d "${PGDATABASE}" "${work}/floor.dump"
mkdir "${work}/floor-restore"
tar -xzf "${work}/floor-data.tar.gz" -C "${work}/floor-restore"
floor_restore="$(since "${t}")"

printf '\n%-44s %10s %10s %10s\n' "posts=${posts}, files=${megabytes} MB" "backup s" "restore s" "size MB"
printf '%-44s %10s %10s %10s\n' "mattermost-backup (verify + sha256 + manifest)" "${tool_backup}" "${tool_restore}" "${tool_size}"
printf '%-44s %10s %10s %10s\n' "pg_dump -Fc + tar -czf / pg_restore + tar -x" "${floor_backup}" "${floor_restore}" "${floor_size}"
