"""`onebox check`: one line per finding, exit 1 when something FAILs."""


def test_check_running_and_stopped(onebox):
    p = onebox.cli("check", check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "ok    config" in p.stdout
    assert "smtp_listen 127.0.0.1:%d answers" % onebox.port("smtp") in p.stdout
    assert "database: 1 domain, 2 users" in p.stdout

    onebox.stop()
    p = onebox.cli("check", check=False)
    assert p.returncode == 1, p.stdout
    assert "smtp_listen 127.0.0.1:%d does not answer" % onebox.port("smtp") in p.stdout


def test_check_bad_config(onebox):
    with open(onebox.conf_path, "a") as f:
        f.write("smtp_listen = nowhere\n")
    p = onebox.cli("check", check=False)
    assert p.returncode == 1
    assert "FAIL" in p.stdout and "smtp_listen" in p.stdout and "set twice" in p.stdout
