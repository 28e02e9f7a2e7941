"""The Bots suite's developer environment: `./bots up` and `./bots test`.

Standard library only: this runs before the virtual environment exists.

  ./bots up [--reset] [--db NAME] [--port N] [--listen ADDRESS]   Odoo 18 with the addons and demo data
  ./bots test [--addon NAME]... [--tags SPEC] [-k EXPR] [--no-pytest] [--no-odoo] [--[no-]platform]

Odoo's source is looked up in ODOO_SRC, then in the cache folder (BOTS_CACHE_DIR, default
~/.cache/odoo-bots/odoo-18.0), then downloaded from Odoo's nightly server into that cache.
PostgreSQL: the server named by the PG* variables when one is set, otherwise a private cluster
(`.pgdata/` for `up`, a temporary folder for `test`) run as a non-root user on a free port.
"""

import argparse
import contextlib
import hashlib
import json
import os
import platform
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")
STATE = os.path.join(ROOT, ".state")
ADDONS = ["chatbot_base", "chatbot_telegram", "chatbot_operator", "chatbot_client", "chatbot_livechat"]
NIGHTLY_URL = "https://nightly.odoo.com/18.0/nightly/src/odoo_18.0.latest.tar.gz"
PG_ENV = ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGSERVICE")
PG_MIN_VERSION = 15
# Odoo's own suites of the addons we extend, run with ours installed: breaking them fails `./bots test`.
PLATFORM_ADDONS = ["im_livechat", "crm_livechat"]
DEMO_LOGINS = [
    ("admin", "admin", "Administrator"),
    ("bots_manager", "bots_manager", "Bots manager"),
    ("bots_operator", "bots_operator", "Bots user (operator)"),
]


class SetupError(Exception):
    """A prerequisite is missing: the message says what to do."""


def say(message):
    print(f"bots: {message}", flush=True)


def run(cmd, check=True, **kwargs):
    return subprocess.run(cmd, check=check, **kwargs)


def cache_dir():
    base = os.environ.get("BOTS_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "odoo-bots"
    )
    return base


def free_port(preferred=None, host="127.0.0.1"):
    """A TCP port free on host right now (the preferred one when it is)."""
    candidates = [preferred] if preferred else []
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in candidates + [0]:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            # as Odoo binds: a port whose last connections are in TIME_WAIT is free (a listener is not)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise SetupError(f"no free TCP port on {host}")


# ---------------------------------------------------------------------------------------------
# Odoo's source
# ---------------------------------------------------------------------------------------------


def odoo_version(src):
    """(major, minor) of the Odoo tree at src, or None when src is not an Odoo source tree."""
    release = os.path.join(src, "odoo", "release.py")
    if not (os.path.isfile(release) and os.path.isfile(os.path.join(src, "odoo-bin"))):
        return None
    with open(release, encoding="utf-8") as handle:
        match = re.search(r"^version_info\s*=\s*\((\d+),\s*(\d+)", handle.read(), re.M)
    return (int(match.group(1)), int(match.group(2))) if match else None


def odoo_addons_dirs(src):
    """The core addons folders: `odoo/addons` (nightly archive) and `addons` (git checkout)."""
    return [
        path
        for path in (os.path.join(src, "addons"), os.path.join(src, "odoo", "addons"))
        if os.path.isdir(os.path.join(path, "im_livechat")) or os.path.isdir(os.path.join(path, "base"))
    ]


def check_odoo_src(src):
    version = odoo_version(src)
    if version is None:
        return f"{src} is not an Odoo source tree (no odoo-bin and odoo/release.py)"
    if version != (18, 0):
        return f"{src} holds Odoo {version[0]}.{version[1]}, not 18.0"
    if not any(os.path.isdir(os.path.join(d, "im_livechat")) for d in odoo_addons_dirs(src)):
        return f"{src} has no im_livechat addon: it is not a full Odoo 18.0 Community tree"
    return None


def find_odoo_src():
    """ODOO_SRC, else the cache folder, else download the nightly archive into the cache."""
    cached = os.path.join(cache_dir(), "odoo-18.0")
    ways = (
        "Odoo 18.0 Community source is needed. Give it one of three ways:\n"
        "  1. ODOO_SRC=/path/to/odoo   a local tree (git checkout of odoo/odoo 18.0 or an unpacked nightly)\n"
        f"  2. put the tree in {cached}   (the default cache folder; BOTS_CACHE_DIR moves it)\n"
        f"  3. let this command download {os.environ.get('ODOO_NIGHTLY_URL', NIGHTLY_URL)}\n"
        "     into that cache (needs access to nightly.odoo.com)"
    )
    if os.environ.get("ODOO_SRC"):
        src = os.path.abspath(os.path.expanduser(os.environ["ODOO_SRC"]))
        problem = check_odoo_src(src)
        if problem:
            raise SetupError(f"ODOO_SRC: {problem}.\n{ways}")
        return src
    if check_odoo_src(cached) is None:
        return cached
    url = os.environ.get("ODOO_NIGHTLY_URL", NIGHTLY_URL)
    say(f"downloading Odoo 18.0 nightly source from {url} into {cached} ...")
    try:
        download_odoo(url, cached)
    except (OSError, urllib.error.URLError, tarfile.TarError) as error:
        raise SetupError(f"the download failed: {error}.\n{ways}") from error
    problem = check_odoo_src(cached)
    if problem:
        raise SetupError(f"the downloaded archive is not usable: {problem}.\n{ways}")
    return cached


def download_odoo(url, target):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(target)) as tmp:
        archive = os.path.join(tmp, "odoo.tar.gz")
        with urllib.request.urlopen(url, timeout=60) as response, open(archive, "wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
        unpacked = os.path.join(tmp, "src")
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
        entries = os.listdir(unpacked)
        top = os.path.join(unpacked, entries[0]) if len(entries) == 1 else unpacked
        if os.path.exists(target):
            shutil.rmtree(target)
        os.rename(top, target)


# ---------------------------------------------------------------------------------------------
# The virtual environment
# ---------------------------------------------------------------------------------------------


def venv_python():
    return os.path.join(VENV, "bin", "python")


# gevent (Odoo's websocket server in prefork mode) loads its plugins through pkg_resources, which under
# setuptools<70 cannot find the newest zope packages (their metadata is named zope_interface): the gevent
# process then dies at start, the master starts it again in a loop (a third of the CPU), and the bus and
# live chat windows never get their websocket.
EXTRA_PINS = ["zope.interface<7\n", "zope.event<5.1\n"]


def ensure_venv(src):
    """Create or refresh .venv with Odoo's requirements and ours; quick when nothing changed."""
    requirement_files = [
        os.path.join(src, "requirements.txt"),
        os.path.join(ROOT, "requirements.txt"),
        os.path.join(ROOT, "requirements-dev.txt"),
    ]
    digest = hashlib.sha256(sys.version.encode() + "".join(EXTRA_PINS).encode())
    for path in requirement_files:
        with open(path, "rb") as handle:
            digest.update(handle.read())
    digest.update(src.encode())
    stamp = os.path.join(VENV, ".bots-requirements")
    wanted = digest.hexdigest()
    if os.path.isfile(venv_python()):
        made_with = subprocess.run(
            [venv_python(), "-c", "import sys; print(sys.version)"], capture_output=True, text=True
        ).stdout.strip()
        if made_with != sys.version:
            # A venv runs the interpreter it was made with: a new one needs a new venv, not new packages.
            say(f"{VENV} runs Python {made_with.split()[0] if made_with else '(broken)'}: recreating it ...")
            shutil.rmtree(VENV)
    if os.path.isfile(stamp) and os.path.isfile(venv_python()):
        with open(stamp, encoding="utf-8") as handle:
            if handle.read().strip() == wanted:
                return
    say(f"installing Python packages into {VENV} (a few minutes the first time) ...")
    if not os.path.isfile(venv_python()):
        run([sys.executable, "-m", "venv", VENV])
    pip = [venv_python(), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    # Old source packages pinned by Odoo 18 (cbor2, ...) only build against setuptools<70 in place.
    run(pip + ["setuptools<70", "wheel", "setuptools_scm<8"])
    odoo_requirements = os.path.join(VENV, "odoo-requirements.txt")
    with open(requirement_files[0], encoding="utf-8") as handle, open(odoo_requirements, "w") as out:
        # python-ldap needs system headers and only serves auth_ldap, which the suite does not use.
        out.writelines(line for line in handle if not line.lower().startswith("python-ldap"))
        out.writelines(EXTRA_PINS)
    run(
        pip
        + ["--no-build-isolation", "-r", odoo_requirements]
        + [arg for path in requirement_files[1:] for arg in ("-r", path)]
    )
    site = subprocess.check_output(
        [venv_python(), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
    ).strip()
    with open(os.path.join(site, "odoo-src.pth"), "w", encoding="utf-8") as handle:
        handle.write(src + "\n")
    with open(stamp, "w", encoding="utf-8") as handle:
        handle.write(wanted)


# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------


def pg_bindir():
    """The folder of the newest PostgreSQL server programs (15 or newer), installing them if root."""
    for attempt in range(2):
        found = []
        if shutil.which("pg_config"):
            found.append(subprocess.check_output(["pg_config", "--bindir"], text=True).strip())
        if shutil.which("initdb"):
            found.append(os.path.dirname(os.path.realpath(shutil.which("initdb"))))
        if os.path.isdir("/usr/lib/postgresql"):
            versions = sorted(
                (v for v in os.listdir("/usr/lib/postgresql") if v.isdigit()), key=int, reverse=True
            )
            found += [f"/usr/lib/postgresql/{v}/bin" for v in versions]
        for bindir in found:
            initdb = os.path.join(bindir, "initdb")
            if not os.path.isfile(initdb):
                continue
            out = subprocess.check_output([initdb, "--version"], text=True)
            match = re.search(r"\)\s*(\d+)", out)
            major = int(match.group(1)) if match else 0
            if major >= PG_MIN_VERSION:
                return bindir
        if attempt == 0 and os.geteuid() == 0 and shutil.which("apt-get"):
            say("installing Debian's postgresql server ...")
            run(["apt-get", "update", "-qq"])
            run(
                ["apt-get", "install", "-y", "-qq", "postgresql"],
                env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
            )
            continue
        break
    raise SetupError(
        f"no PostgreSQL server {PG_MIN_VERSION}+ found (initdb). Install Debian's `postgresql` package, "
        "or point the PG* variables (PGHOST, PGPORT, PGUSER, PGPASSWORD) at a running server."
    )


class Cluster:
    """A private PostgreSQL cluster in `path`, owned by a non-root user, on 127.0.0.1."""

    def __init__(self, path, throwaway=False):
        self.path = path
        self.throwaway = throwaway
        self.bindir = pg_bindir()
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError as error:
                raise SetupError(
                    "PostgreSQL refuses to run as root and there is no `postgres` user"
                ) from error
        self.port = None
        self.started_here = False

    def _as_owner(self, cmd, **kwargs):
        if self.user:
            cmd = ["runuser", "-u", self.user.pw_name, "--"] + cmd
        return run(cmd, **kwargs)

    def _status_port(self):
        """The port of the server running on this cluster, or None."""
        pidfile = os.path.join(self.path, "postmaster.pid")
        if not os.path.isfile(pidfile):
            return None
        result = self._as_owner(
            [os.path.join(self.bindir, "pg_ctl"), "-D", self.path, "status"], check=False, capture_output=True
        )
        if result.returncode != 0:
            return None
        with open(pidfile, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        return int(lines[3]) if len(lines) > 3 else None

    def start(self):
        if not os.path.isfile(os.path.join(self.path, "PG_VERSION")):
            os.makedirs(self.path, exist_ok=True)
            if self.user:
                os.chown(self.path, self.user.pw_uid, self.user.pw_gid)
            os.chmod(self.path, 0o700)
            self._as_owner(
                [
                    os.path.join(self.bindir, "initdb"),
                    "-D",
                    self.path,
                    "-U",
                    "odoo",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-locale",
                ],
                stdout=subprocess.DEVNULL,
            )
        self.port = self._status_port()
        if self.port:
            return self
        self.port = free_port()
        options = f"-p {self.port} -k {self.path} -c listen_addresses=127.0.0.1"
        if self.throwaway:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._as_owner(
            [
                os.path.join(self.bindir, "pg_ctl"),
                "-D",
                self.path,
                "-o",
                options,
                "-l",
                os.path.join(self.path, "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            stdout=subprocess.DEVNULL,
        )
        self.started_here = True
        return self

    def stop(self):
        if self.started_here:
            self._as_owner(
                [os.path.join(self.bindir, "pg_ctl"), "-D", self.path, "-m", "fast", "-w", "stop"],
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self.started_here = False
        if self.throwaway:
            shutil.rmtree(self.path, ignore_errors=True)

    def odoo_args(self):
        return ["--db_host=127.0.0.1", f"--db_port={self.port}", "--db_user=odoo", "--db_password=odoo"]

    def env(self):
        return {"PGHOST": "127.0.0.1", "PGPORT": str(self.port), "PGUSER": "odoo", "PGPASSWORD": "odoo"}


def cluster_dir(preferred):
    """`preferred` when the postgres user can reach it, else a folder of ours under /var/tmp."""
    if os.geteuid() != 0:
        return preferred
    parent = os.path.dirname(preferred)
    os.makedirs(parent, exist_ok=True)
    probe = run(["runuser", "-u", "postgres", "--", "test", "-x", parent], check=False)
    if probe.returncode == 0:
        return preferred
    fallback = os.path.join("/var/tmp", "odoo-bots-" + hashlib.sha1(preferred.encode()).hexdigest()[:10])
    say(f"the postgres user cannot reach {parent}; the cluster lives in {fallback}")
    return fallback


class ExternalServer:
    """The PostgreSQL server named by the caller's PG* variables."""

    started_here = False

    def start(self):
        return self

    def stop(self):
        pass

    def odoo_args(self):
        return []

    def env(self):
        return {}


def database_server(path, throwaway=False):
    if any(os.environ.get(name) for name in PG_ENV):
        say("using the PostgreSQL server given by the PG* variables")
        return ExternalServer()
    return Cluster(cluster_dir(path), throwaway=throwaway)


def sql(server, dbname, query, params=()):
    """Run one query with the venv's psycopg2; rows as lists, or None when the database is missing."""
    code = (
        "import json, sys, psycopg2\n"
        "try:\n"
        "    conn = psycopg2.connect(dbname=sys.argv[1])\n"
        "except psycopg2.OperationalError as e:\n"
        "    if 'does not exist' in str(e): print('null'); sys.exit(0)\n"
        "    raise\n"
        "conn.autocommit = True\n"
        "cr = conn.cursor(); cr.execute(sys.argv[2], json.loads(sys.argv[3]))\n"
        "print(json.dumps(cr.fetchall() if cr.description else []))\n"
    )
    out = subprocess.check_output(
        [venv_python(), "-c", code, dbname, query, json.dumps(list(params))],
        env=dict(os.environ, **server.env()),
        text=True,
    )
    return json.loads(out)


# ---------------------------------------------------------------------------------------------
# Odoo
# ---------------------------------------------------------------------------------------------


def addons_path(src):
    return ",".join(odoo_addons_dirs(src) + [ROOT])


def odoo_cmd(src, server, *args):
    return [
        venv_python(),
        os.path.join(src, "odoo-bin"),
        f"--addons-path={addons_path(src)}",
        *server.odoo_args(),
        *args,
    ]


def addons_digest():
    """A digest of our addons' files: when it changes, `up` updates the modules."""
    digest = hashlib.sha256()
    for addon in ADDONS:
        for folder, dirs, files in sorted(os.walk(os.path.join(ROOT, addon))):
            dirs.sort()
            for name in sorted(files):
                if name.endswith((".pyc", ".pyo")):
                    continue
                path = os.path.join(folder, name)
                digest.update(path.encode())
                with open(path, "rb") as handle:
                    digest.update(handle.read())
    return digest.hexdigest()


def installed_modules(server, dbname, names=ADDONS):
    """Which of `names` are installed in dbname; None when the database does not exist."""
    rows = sql(server, "postgres", "SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
    if not rows:
        return None
    rows = sql(
        server,
        dbname,
        "SELECT name FROM ir_module_module WHERE state = 'installed' AND name = ANY(%s)",
        [list(names)],
    )
    return {row[0] for row in rows or []}


def wait_http(url, process, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    return False


def stop_process(process, timeout=30):
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def ensure_database(src, server, dbname, reset=False):
    """The demo database with the five addons installed and up to date with the working tree."""
    os.makedirs(STATE, exist_ok=True)
    stamp = os.path.join(STATE, f"{dbname}.addons")
    if reset:
        say(f"dropping database {dbname} ...")
        sql(server, "postgres", f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        with contextlib.suppress(FileNotFoundError):
            os.remove(stamp)
    installed = installed_modules(server, dbname)
    digest = addons_digest()
    if installed is None or set(ADDONS) - installed:
        say(f"creating database {dbname} with the Bots addons and demo data (a few minutes) ...")
        install_addons(src, server, dbname)
    else:
        if read_text(stamp) == digest:
            digest = None
        if digest:
            say("the addons changed since the last run: updating them ...")
            install_addons(src, server, dbname, mode="-u")
    with open(stamp, "w", encoding="utf-8") as handle:
        handle.write(addons_digest())


def cmd_up(options):
    src = find_odoo_src()
    ensure_venv(src)
    server = database_server(os.path.join(ROOT, ".pgdata")).start()
    odoo = None
    try:
        dbname = options.db
        ensure_database(src, server, dbname, options.reset)
        if options.lang:
            set_language(src, server, dbname, options.lang)
        port = options.port or free_port(8069, options.listen)
        config = write_config(src, server, dbname, port, options.listen)
        odoo = subprocess.Popen(odoo_cmd(src, server, "-c", config), start_new_session=True)
        url = f"http://{local_host(options.listen)}:{port}"
        if not wait_http(f"{url}/web/health", odoo):
            raise SetupError("Odoo did not start; its log is above")
        say("")
        say(f"Odoo 18 with the Bots suite is running at {url}  (database {dbname}, dbfilter ^{dbname}$)")
        for login, password, role in DEMO_LOGINS:
            say(f"  login {login:<13} password {password:<13} {role}")
        if options.listen not in LOOPBACK:
            say(
                f"WARNING: Odoo listens on {options.listen}, port {port}: whoever reaches this machine there "
                "can log in with the demo passwords above (Administrator included). Change them, or run "
                "without --listen (127.0.0.1 only)."
            )
        say(f"configuration: {config}.  Ctrl-C stops Odoo and the private PostgreSQL cluster.")
        odoo.wait()
        return odoo.returncode
    except KeyboardInterrupt:
        say("stopping ...")
        return 0
    finally:
        if odoo:
            stop_process(odoo)
        server.stop()


LANGUAGES = ("uk_UA", "ru_RU")


def set_language(src, server, dbname, lang):
    """Install `lang` with the translations of every installed module, as Settings > Languages does (in
    Odoo's shell, every module loaded: the bots' texts get theirs too), and make it the demo users'."""
    rows = sql(server, dbname, "SELECT active FROM res_lang WHERE code = %s", [lang])
    if not (rows and rows[0][0]):
        say(f"installing the language {lang} with its translations ...")
        script = (
            f"env['res.lang']._activate_lang({lang!r})\n"
            f"env['ir.module.module'].search([('state', '=', 'installed')])._update_translations({lang!r})\n"
            "env.cr.commit()\n"
        )
        shell = odoo_cmd(src, server, "-d", dbname, "--no-http", "--log-level=warn")
        shell.insert(2, "shell")  # Odoo's subcommand comes first
        run(shell, input=script, text=True, stdout=subprocess.DEVNULL)
    sql(
        server,
        dbname,
        "UPDATE res_partner SET lang = %s"
        " WHERE id IN (SELECT partner_id FROM res_users WHERE login = ANY(%s))",
        [lang, [login for login, _password, _role in DEMO_LOGINS]],
    )


def read_text(path):
    with contextlib.suppress(FileNotFoundError), open(path, encoding="utf-8") as handle:
        return handle.read()
    return None


def undated(template):
    """A template without its creation and revision dates."""
    return re.sub(r'^"(POT-Creation|PO-Revision)-Date: .*$', "", template, flags=re.MULTILINE)


def cmd_pot(options):
    """Export each addon's terms to i18n/<addon>.pot with Odoo's exporter, and merge them into the
    uk.po and ru.po beside it (tools/i18n_merge.py)."""
    src = find_odoo_src()
    ensure_venv(src)
    server = database_server(os.path.join(ROOT, ".pgdata")).start()
    try:
        ensure_database(src, server, options.db)
        for addon in ADDONS:
            os.makedirs(os.path.join(ROOT, addon, "i18n"), exist_ok=True)
            pot = os.path.join(ROOT, addon, "i18n", f"{addon}.pot")
            before = read_text(pot)
            export = [f"--i18n-export={pot}", f"--modules={addon}", "--stop-after-init", "--log-level=warn"]
            run(odoo_cmd(src, server, "-d", options.db, *export, f"--http-port={free_port()}"))
            if before and undated(before) == undated(read_text(pot)):
                with open(pot, "w", encoding="utf-8") as handle:
                    handle.write(before)  # the same terms: no change of date to commit
            run([venv_python(), os.path.join(ROOT, "tools", "i18n_merge.py"), pot, *LANGUAGES])
    finally:
        server.stop()
    return 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def local_host(listen):
    """The host part of a URL that reaches Odoo listening on `listen` from this machine."""
    if listen in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{listen}]" if ":" in listen else listen


def write_config(src, server, dbname, port, listen="127.0.0.1"):
    """An odoo.conf in .state/ so that Odoo can also be started by hand with `-c`."""
    lines = [
        "[options]",
        f"addons_path = {addons_path(src)}",
        f"db_name = {dbname}",
        f"dbfilter = ^{dbname}$",
        f"http_port = {port}",
        f"http_interface = {listen}",
        "list_db = False",
        "workers = 0",
        "max_cron_threads = 2",
        "proxy_mode = True",
    ]
    for arg in server.odoo_args():
        key, value = arg[2:].split("=", 1)
        lines.append(f"{key} = {value}")
    path = os.path.join(STATE, f"{dbname}.conf")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


def ensure_browser():
    """Chromium for Odoo's tours: installed when missing and root, else a clear failure."""
    for name in ("google-chrome", "chromium", "chromium-browser", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing Debian's chromium for the browser tours ...")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(["apt-get", "update", "-qq"], env=env)
        run(["apt-get", "install", "-y", "-qq", "chromium"], env=env)
        if shutil.which("chromium"):
            return shutil.which("chromium")
    raise SetupError(
        "the browser tours need Chromium and none was found: install it (Debian: `apt-get install chromium`) "
        "and run again. A tour that cannot run is a failure, not a skip."
    )


def junit_counts(path):
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    if not os.path.isfile(path):
        return None
    root = ET.parse(path).getroot()
    for suite in root.iter("testsuite"):
        tests = int(suite.get("tests", 0))
        failed, errors, skipped = (int(suite.get(key, 0)) for key in ("failures", "errors", "skipped"))
        counts["failed"] += failed
        counts["errors"] += errors
        counts["skipped"] += skipped
        counts["passed"] += tests - failed - errors - skipped
    return counts


PLATFORM_LABEL = "+".join(PLATFORM_ADDONS)


def odoo_tests(src, server, dbname, report, tags, install=(), env=None):
    """Run Odoo's tests matching `tags` (installing `install` first); their counts, an error on a crash."""
    cmd = [
        venv_python(),
        os.path.join(ROOT, "tools", "odoo_test_runner.py"),
        report,
        *odoo_cmd(src, server)[2:],
        "-d",
        dbname,
        *(["-i", ",".join(install)] if install else []),
        "--test-enable",
        f"--test-tags={tags}",
        "--stop-after-init",
        f"--http-port={free_port()}",
        "--workers=0",
        "--max-cron-threads=0",
        "--log-level=test",
    ]
    process = run(cmd, check=False, env=env)
    counts = None
    if os.path.isfile(report):
        with open(report, encoding="utf-8") as handle:
            counts = json.load(handle)
    if counts is None:
        say("Odoo did not report test results: it failed before or while running them (log above)")
        return {"passed": 0, "failed": 0, "errors": 1, "skipped": 0, "run": 0}
    if process.returncode != 0 and not (counts["failed"] or counts["errors"]):
        counts["errors"] += 1
        say(f"Odoo exited with {process.returncode} (log above)")
    return counts


def platform_tests(src, server, dbname, work):
    """Odoo's own suites of the addons we extend, on the database where ours are installed.

    A second run on the same database, nothing installed: Odoo then runs the post_install tests of
    the installed modules matching the tags (all of im_livechat's and crm_livechat's are post_install),
    with our addons loaded, our demo data included. Counted apart in the summary line.
    """
    missing = set(ADDONS + PLATFORM_ADDONS) - set(
        installed_modules(server, dbname, ADDONS + PLATFORM_ADDONS) or ()
    )
    if missing:
        say(f"Odoo's own suites not run: {', '.join(sorted(missing))} not installed in {dbname}")
        return {"passed": 0, "failed": 0, "errors": 1, "skipped": 0, "run": 0}
    tags = ",".join(f"/{addon}" for addon in PLATFORM_ADDONS)
    say(f"Odoo's own suites with our addons installed: running {tags} on {dbname} ...")
    # Some of Odoo's tours race the web client's start (im_livechat_history_back_and_forth_tour presses
    # Ctrl+K before the first action, whose mounting closes the command palette): about one run in five
    # fails on a loaded 2-core machine without our addons too. Odoo's own retry, as on its runbot: a failed
    # test runs once more, only until a test fails twice; the summary line counts and names the retried.
    env = dict(os.environ, ODOO_TEST_FAILURE_RETRIES="1")
    counts = odoo_tests(src, server, dbname, os.path.join(work, "platform-report.json"), tags, env=env)
    if counts["run"] == 0:
        say(f"Odoo ran none of {tags}'s tests")
        counts["errors"] += 1
    if counts.get("retried"):
        say(f"run twice (failed once): {', '.join(counts['retried'])}")
    return counts


def cmd_test(options):
    started = time.time()
    src = find_odoo_src()
    ensure_venv(src)
    ensure_browser()
    addons = options.addon or ADDONS
    unknown = set(addons) - set(ADDONS)
    if unknown:
        raise SetupError(f"unknown addon(s) {', '.join(sorted(unknown))}; ours are {', '.join(ADDONS)}")
    work = tempfile.mkdtemp(prefix="bots-test-")
    os.chmod(work, 0o755)
    server = database_server(os.path.join(work, "pgdata"), throwaway=True)
    results = {}
    try:
        server.start()
        dbname = f"bots_test_{os.getpid()}"
        if not options.no_odoo:
            tags = options.tags or ",".join(f"/{addon}" for addon in addons)
            say(f"Odoo tests: installing {', '.join(ADDONS)} into {dbname} and running {tags} ...")
            report = os.path.join(work, "odoo-report.json")
            results["odoo"] = odoo_tests(src, server, dbname, report, tags, install=ADDONS)
            platform_run = options.platform
            if platform_run is None:
                platform_run = not (options.addon or options.tags)
            if platform_run:
                results[PLATFORM_LABEL] = platform_tests(src, server, dbname, work)
        if not options.no_pytest:
            if options.no_odoo:
                say(f"installing {', '.join(ADDONS)} into {dbname} for the end-to-end tests ...")
                install_addons(src, server, dbname)
            junit = os.path.join(work, "pytest.xml")
            env = suite_env(src, server, dbname)
            cmd = [
                venv_python(),
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                f"--junitxml={junit}",
                "-o",
                "junit_family=xunit2",
                os.path.join(ROOT, "tests"),
            ]
            if options.k:
                cmd += ["-k", options.k]
            say("pytest: repository checks, lint, end-to-end ...")
            process = run(cmd, check=False, cwd=ROOT, env=env)
            counts = junit_counts(junit) or {"passed": 0, "failed": 0, "errors": 1, "skipped": 0}
            if process.returncode not in (0, 5) and not (counts["failed"] or counts["errors"]):
                counts["errors"] += 1
            results["pytest"] = counts
    except KeyboardInterrupt:
        say("interrupted")
        results.setdefault("interrupted", {"passed": 0, "failed": 0, "errors": 1, "skipped": 0})
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    total = {key: sum(r[key] for r in results.values()) for key in ("passed", "failed", "errors", "skipped")}
    detail = "; ".join(
        f"{name}: {c['passed']} passed, {c['failed']} failed, {c['errors']} errors, {c['skipped']} skipped"
        + (f", {len(c['retried'])} retried" if c.get("retried") else "")
        for name, c in results.items()
    )
    # A skipped test did not run: it counts as a failure, never as a pass.
    failed = total["failed"] + total["errors"] + total["skipped"]
    if total["passed"] == 0:
        failed = max(failed, 1)
    print(f"{total['passed']} passed, {failed} failed in {time.time() - started:.0f}s ({detail})", flush=True)
    return 1 if failed else 0


def install_addons(src, server, dbname, mode="-i"):
    """Install (-i: a new database, with demo data) or update (-u) the five addons, nothing else run. An
    update loads the addons' uk.po and ru.po again over what the database has (--i18n-overwrite): the
    files are the source of the translations."""
    overwrite = ["--i18n-overwrite"] if mode == "-u" else []
    run(
        odoo_cmd(
            src,
            server,
            "-d",
            dbname,
            mode,
            ",".join(ADDONS),
            *overwrite,
            "--stop-after-init",
            "--log-level=warn",
            f"--http-port={free_port()}",
        )
    )


def suite_env(src, server, dbname):
    """The variables the pytest suite and the benchmarks read (tests/harness.py)."""
    return dict(
        os.environ,
        **server.env(),
        BOTS_ODOO_SRC=src,
        BOTS_ADDONS_PATH=addons_path(src),
        BOTS_TEST_DB=dbname,
        BOTS_DB_ARGS=json.dumps(server.odoo_args()),
        PYTHONPATH=os.path.join(ROOT, "tests"),
    )


def cmd_bench(options):
    """Run tests/bench_<name>.py against a throwaway database with the addons installed."""
    script = os.path.join(ROOT, "tests", f"bench_{options.name}.py")
    if not os.path.isfile(script):
        names = sorted(n[6:-3] for n in os.listdir(os.path.join(ROOT, "tests")) if n.startswith("bench_"))
        raise SetupError(f"no benchmark {options.name!r}; there are: {', '.join(names)}")
    src = find_odoo_src()
    ensure_venv(src)
    work = tempfile.mkdtemp(prefix="bots-bench-")
    os.chmod(work, 0o755)
    server = database_server(os.path.join(work, "pgdata"), throwaway=True)
    try:
        server.start()
        dbname = f"bots_bench_{os.getpid()}"
        say(f"installing {', '.join(ADDONS)} into {dbname} ...")
        install_addons(src, server, dbname)
        env = suite_env(src, server, dbname)
        return run([venv_python(), script], check=False, cwd=ROOT, env=env).returncode
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def cmd_play(options):
    """Play a Telegram user against the Odoo that `./bots up` runs (tools/telegram_play.py)."""
    config = os.path.join(STATE, f"{options.db}.conf")
    if not os.path.isfile(config) or not os.path.isfile(venv_python()):
        raise SetupError(f"start Odoo first with `./bots up` (no {config})")
    with open(config, encoding="utf-8") as handle:
        text = handle.read()
    port = re.search(r"^http_port = (\d+)", text, re.M).group(1)
    listen = re.search(r"^http_interface = (.*)$", text, re.M)
    host = local_host(listen.group(1).strip() if listen else "")
    args = ["--url", f"http://{host}:{port}", "--db", options.db, *options.args]
    return run(
        [venv_python(), os.path.join(ROOT, "tools", "telegram_play.py"), *args], check=False
    ).returncode


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bots", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="run Odoo 18 with the Bots addons and demo data")
    up.add_argument("--reset", action="store_true", help="drop and recreate the demo database")
    up.add_argument("--db", default=os.environ.get("BOTS_DB", "bots"), help="database name (default: bots)")
    up.add_argument("--port", type=int, help="HTTP port (default: 8069 when free, else a free one)")
    up.add_argument(
        "--listen",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="address Odoo listens on (default: 127.0.0.1, this machine only; 0.0.0.0: every interface, "
        "reachable by anyone who can reach this machine, with the demo passwords)",
    )
    up.add_argument(
        "--lang",
        choices=LANGUAGES,
        help="install this language and make it the demo users' (their web client then speaks it)",
    )
    pot = sub.add_parser("pot", help="export each addon's terms to i18n/<addon>.pot and merge uk.po, ru.po")
    pot.add_argument("--db", default=os.environ.get("BOTS_DB", "bots"), help="database name (default: bots)")
    test = sub.add_parser("test", help="run every test (Odoo's runner, then pytest)")
    test.add_argument("--addon", action="append", help="run only this addon's Odoo tests (repeatable)")
    test.add_argument("--tags", help="Odoo --test-tags spec, e.g. /chatbot_base:TestInbound.test_duplicate")
    test.add_argument("-k", help="pytest -k expression for the top-level suite")
    test.add_argument("--no-odoo", action="store_true", help="skip Odoo's tests (pytest only)")
    test.add_argument("--no-pytest", action="store_true", help="skip the top-level pytest suite")
    test.add_argument(
        "--platform",
        action=argparse.BooleanOptionalAction,
        help=f"also run Odoo's own {' and '.join(PLATFORM_ADDONS)} tests with our addons installed "
        "(default: yes in the full run, no with --addon or --tags)",
    )
    bench = sub.add_parser("bench", help="run a benchmark (tests/bench_<name>.py) on a throwaway database")
    bench.add_argument("name", help="e.g. telegram")
    play = sub.add_parser("play", help="be a Telegram user in this terminal, talking to `./bots up`'s Odoo")
    play.add_argument("--db", default=os.environ.get("BOTS_DB", "bots"))
    options, extra = parser.parse_known_args(argv)
    if options.command == "play":
        options.args = extra  # --bot NAME, --name "Your Name" ...: tools/telegram_play.py's options
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    # Ctrl-C and a plain `kill` both stop Odoo and the private cluster cleanly (also when started in the
    # background, where SIGINT is ignored by default).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    say(f"Python {platform.python_version()} ({sys.executable})")
    try:
        commands = {"up": cmd_up, "pot": cmd_pot, "test": cmd_test, "bench": cmd_bench, "play": cmd_play}
        return commands[options.command](options)
    except SetupError as error:
        print(f"bots: {error}", file=sys.stderr, flush=True)
        return 2
    except subprocess.CalledProcessError as error:
        print(f"bots: command failed ({error.returncode}): {' '.join(map(str, error.cmd))}", file=sys.stderr)
        return error.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
