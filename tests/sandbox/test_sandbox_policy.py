"""The sandbox's rules, read from docker-compose.yml (raw, and as Compose resolves it).

Each checker is a small function that returns what is wrong, so the same function is
also shown a bad example and must catch it.
"""

import json
import re
import subprocess

import pytest
import yaml

from support.sandbox import COMPOSE_FILE, DOCKERFILE, ROOT, resolved

pytestmark = pytest.mark.usefixtures("untraced_module")  # no example code runs in this process

# Interpolated from the reader's shell or .env on purpose, each with a default.
INTERPOLATED = {"CLEANUP_EVERY_SECONDS"}
# Third-party images that start as root and drop privileges themselves.
DROPS_ROOT_ITSELF = {"redis": "the official image's entrypoint re-execs as user redis",
                     "postgres": "the official image's entrypoint re-execs as user postgres"}


@pytest.fixture(scope="module")
def config() -> dict:
    return resolved()


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def option(command: list[str], *names: str) -> str | None:
    """The value of `-Q x`, `--time-limit=30`… in an exec-form command."""
    for i, word in enumerate(command):
        for name in names:
            if word == name and i + 1 < len(command):
                return command[i + 1]
            if word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def seconds(duration: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(n) * units[u] for n, u in parts)


def celery_role(service: dict) -> str | None:
    command = service.get("command") or []
    if command[:1] == ["celery"]:
        return next((w for w in command[1:] if w in ("worker", "beat", "flower")), None)
    return None


# -- ports ------------------------------------------------------------------------------------
def public_ports(config: dict) -> list[str]:
    return [f"{name}: {p.get('host_ip') or '0.0.0.0'}:{p.get('published')}->{p['target']}"
            for name, s in config["services"].items() for p in s.get("ports", [])
            if p.get("host_ip") != "127.0.0.1"]


def test_every_published_port_binds_127_0_0_1(config):
    published = {name: sorted(int(p["published"]) for p in s.get("ports", []))
                 for name, s in config["services"].items() if s.get("ports")}
    assert published == {"api": [8000], "flower": [5555], "mailpit": [8025]}
    assert public_ports(config) == []


def test_the_port_checker_catches_a_port_open_to_the_network():
    bad = {"services": {"redis": {"ports": [{"target": 6379, "published": "6379"}]}}}
    assert public_ports(bad) == ["redis: 0.0.0.0:6379->6379"]


def test_redis_and_mailpit_smtp_are_not_published(config):
    assert not config["services"]["redis"].get("ports")
    assert [p["target"] for p in config["services"]["mailpit"]["ports"]] == [8025]  # not 1025


# -- Celery roles -----------------------------------------------------------------------------
def test_exactly_one_beat_and_no_embedded_one(config):
    beats = [s for s in config["services"].values() if celery_role(s) == "beat"]
    assert len(beats) == 1
    assert beats[0].get("deploy", {}).get("replicas", 1) == 1
    for name, service in config["services"].items():
        command = service.get("command") or []
        assert "-B" not in command and "--beat" not in command, f"{name} embeds a beat"


def missing_queues(command: list[str], routes: dict, default: str = "celery") -> set[str]:
    consumed = set((option(command, "-Q", "--queues") or default).split(","))
    wanted = {route["queue"] for route in routes.values()} | {default}
    return wanted - consumed


def test_worker_consumes_every_routed_queue(config):
    import celeryconfig  # examples/ is on sys.path (conftest), as for the worker

    [worker] = [s for s in config["services"].values() if celery_role(s) == "worker"]
    assert missing_queues(worker["command"], celeryconfig.task_routes) == set()
    assert "-E" in worker["command"], "Flower needs task events"


def test_the_queue_checker_catches_the_sources_worker_command():
    routes = {"celery_app.send_email": {"queue": "emails"},
              "celery_app.process_image": {"queue": "images"}}
    assert missing_queues(["celery", "-A", "celery_app", "worker"], routes) == {"emails",
                                                                                 "images"}


def test_worker_shutdown_outlasts_its_longest_task(config):
    worker = config["services"]["worker"]
    limit = float(option(worker["command"], "--time-limit"))
    assert seconds(worker["stop_grace_period"]) > limit
    assert worker["init"] is True


# -- health and start order -------------------------------------------------------------------
def test_every_long_running_service_has_a_healthcheck(config):
    # Every service here is long-running (no one-shot job); each is checked by Docker.
    for name, service in config["services"].items():
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no healthcheck"


def test_services_wait_for_healthy_dependencies(config):
    for name in ("worker", "beat", "api", "flower"):
        assert config["services"][name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert config["services"]["worker"]["depends_on"]["mailpit"]["condition"] == "service_healthy"


# -- $ and $$ ---------------------------------------------------------------------------------
def strings(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def dollar_problems(doc: dict) -> list[str]:
    """`$` misuse in a compose file loaded with yaml (so comments do not count).

    - `$NAME` or `${NAME}` is interpolated by Compose on the host: only INTERPOLATED
      names are meant that way, and each needs a default (`${NAME:-}`).
    - `$$` reaches the container as `$`: only a shell expands it, so it must be in a
      CMD-SHELL healthcheck or a string (shell-form) command.
    """
    problems = []
    for path, text in strings(doc.get("services", {})):
        for m in re.finditer(r"\$\$|\$\{(\w+)([^}]*)\}|\$(\w+)", text):
            if m[0] == "$$":
                test = path.rsplit("[", 1)[0]
                in_shell = re.search(r"\.healthcheck\.test\[\d+\]$", path) and any(
                    p == f"{test}[0]" and v == "CMD-SHELL" for p, v in strings(doc["services"]))
                if not in_shell and not re.search(r"\.(command|entrypoint|test)$", path):
                    problems.append(f"{path}: $$ outside a shell, stays a literal $")
            elif m[3]:
                problems.append(f"{path}: ${m[3]} is interpolated by Compose on the host")
            elif m[1] not in INTERPOLATED or not m[2].startswith((":-", "-", ":?")):
                problems.append(f"{path}: ${{{m[1]}{m[2]}}} is not a meant, defaulted variable")
    return problems


def test_dollar_escapes_are_right(raw):
    assert dollar_problems(raw) == []
    tests = {name: s["healthcheck"]["test"] for name, s in raw["services"].items()}
    assert "celery@$$HOSTNAME" in tests["worker"][1] and tests["worker"][0] == "CMD-SHELL"
    assert "celerybeat@$$HOSTNAME" in tests["beat"][1] and tests["beat"][0] == "CMD-SHELL"


@pytest.mark.parametrize("bad, problem", [
    ({"test": ["CMD-SHELL", "celery inspect ping -d celery@$HOSTNAME"]},
     "$HOSTNAME is interpolated by Compose on the host"),
    ({"test": ["CMD", "celery", "inspect", "ping", "-d", "celery@$$HOSTNAME"]},
     "$$ outside a shell"),
    ({"test": ["CMD-SHELL", "echo ${SECRET}"]}, "${SECRET} is not a meant"),
])
def test_the_dollar_checker_catches_mistakes(bad, problem):
    [found] = dollar_problems({"services": {"worker": {"healthcheck": bad}}})
    assert problem in found


def test_cleanup_interval_comes_from_the_environment():
    assert resolved()["services"]["beat"]["environment"]["CLEANUP_EVERY_SECONDS"] == ""
    shortened = resolved(CLEANUP_EVERY_SECONDS="7")
    assert shortened["services"]["beat"]["environment"]["CLEANUP_EVERY_SECONDS"] == "7"


# -- persistence, volumes, privileges ----------------------------------------------------------
def test_redis_keeps_an_append_only_file_on_a_named_volume(config):
    redis = config["services"]["redis"]
    command = redis["command"]
    assert option(command, "--appendonly") == "yes"
    assert option(command, "--appendfsync") == "everysec"
    assert option(command, "--maxmemory-policy") == "noeviction"
    assert option(command, "--maxmemory") == "256mb"  # the limit the policy applies at
    [volume] = redis["volumes"]
    assert (volume["type"], volume["source"], volume["target"]) == ("volume", "redis-data",
                                                                    "/data")


def mounts(service: dict) -> dict[str, str]:
    return {v["target"]: v["source"] for v in service.get("volumes", []) if v["type"] == "volume"}


def test_beat_schedule_and_media_live_in_named_volumes(config):
    services = config["services"]
    schedule = option(services["beat"]["command"], "-s", "--schedule")
    assert any(schedule.startswith(target + "/") for target in mounts(services["beat"]))
    for name in ("api", "worker"):
        media_dir = services[name]["environment"]["MEDIA_DIR"]
        assert mounts(services[name]).get(media_dir) == "media", name


def test_nothing_runs_as_root(config, raw):
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE.read_text(), re.M)
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "the image's last USER must be a numeric non-root"
    for name, service in config["services"].items():
        user = str(service.get("user", ""))
        assert user.split(":")[0] not in ("root", "0"), name
        if "build" not in service and not user:
            assert name in DROPS_ROOT_ITSELF, f"{name} runs its image's default user (root?)"


def test_python_services_use_exec_form(raw):
    for name, service in raw["services"].items():
        if "command" in service:
            assert isinstance(service["command"], list), f"{name}: shell form would eat SIGTERM"


def test_flower_login_comes_from_env_files_and_dot_env_is_ignored(config):
    flower = config["services"]["flower"]
    assert re.fullmatch(r"[^:\s]+:\S+", flower["environment"]["FLOWER_BASIC_AUTH"])
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT)
    assert ignored.returncode == 0, ".env must be git-ignored"
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", ".env.example"], cwd=ROOT,
                             capture_output=True)
    assert tracked.returncode == 0, ".env.example must be committed"


def test_the_images_default_command_is_the_api_service(config):
    """`docker run` of the image alone starts what the `api` service runs."""
    [cmd] = re.findall(r"^CMD (\[.*\])$", DOCKERFILE.read_text(), re.M)
    assert json.loads(cmd) == config["services"]["api"]["command"]


def test_postgres_is_unpublished_healthchecked_on_a_volume_and_named_by_the_apps(config):
    services = config["services"]
    postgres = services["postgres"]
    assert not postgres.get("ports")
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert mounts(postgres) == {"/var/lib/postgresql/data": "postgres-data"}
    env = postgres["environment"]
    url = f"postgresql+psycopg://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@postgres:5432/"
    for name in services:
        if "build" in services[name]:
            assert services[name]["environment"]["DATABASE_URL"] == url + env["POSTGRES_DB"]
    assert services["api"]["depends_on"]["postgres"]["condition"] == "service_healthy"
