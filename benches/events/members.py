#!/usr/bin/env python3
"""benches/events/members.py SCIMD_BIN [ROUNDS] — what a group PATCH adding
10,000 members costs (issue 18: its change event lists the ids added, so it
grows with the change; the PATCH must stay within ±20 % of before events).

Starts SCIMD_BIN on a fresh embedded data directory, creates 10,000 users,
then ROUNDS (default 5) times: a new group, one PATCH adding all 10,000
(timed), and prints the median in ms."""
import json, os, socket, statistics, subprocess, sys, tempfile, time, urllib.request

bin_, rounds = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5
data = tempfile.mkdtemp(prefix="scimd-members-")
os.chmod(data, 0o777)
env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AUTH_SECRET")}
env["SCIMD_DATA_DIR"] = data + "/db"
tok = subprocess.run([bin_, "token", "create", "--name", "m", "--scope", "all"], env=env,
                     capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
env["SCIMD_LISTEN"] = f"127.0.0.1:{port}"
srv = subprocess.Popen([bin_, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"

def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + tok, "Content-Type": "application/scim+json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read() or b"null")

try:
    for _ in range(150):
        try:
            urllib.request.urlopen(base + "/ready", timeout=1); break
        except Exception:
            time.sleep(0.2)
    ids = []
    for chunk in range(100):
        ops = [{"method": "POST", "path": "/Users", "bulkId": f"u{i}",
                "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"m{chunk}-{i}"}}
               for i in range(100)]
        r = call("POST", "/scim/v2/Bulk", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops})
        ids += [o["location"].rsplit("/", 1)[1] for o in r["Operations"]]
    times = []
    for n in range(rounds):
        g = call("POST", "/scim/v2/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": f"g{n}"})
        body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": i} for i in ids]}]}
        t = time.perf_counter()
        call("PATCH", f"/scim/v2/Groups/{g['id']}?excludedAttributes=members", body)
        times.append((time.perf_counter() - t) * 1000)
    print(f"{os.path.basename(bin_)}: PATCH adding {len(ids)} members: median {statistics.median(times):.0f} ms "
          f"({', '.join(f'{x:.0f}' for x in times)})")
finally:
    srv.terminate(); srv.wait()
    subprocess.run(["rm", "-rf", data])
