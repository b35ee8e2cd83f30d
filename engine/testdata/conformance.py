#!/usr/bin/env python3
"""Run the conformance cases in-process against the engine (no server).

usage: python3 engine/testdata/conformance.py [--filter SUBSTR ...] [--show N] [--verbose]

It prepares every case whose requirements are "none" or a stub Lambda handler
and whose definition does not use JSONata, runs them through
TestConformanceJobs (go test) with the conformance Lambda stub, and compares
the results with run.py's own evaluate().
"""
import argparse, json, os, subprocess, sys, tempfile, collections

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CONF = os.path.join(REPO, "..", "shared", "conformance")
sys.path.insert(0, CONF)
import run  # noqa: E402
import lambdas  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--filter", nargs="*")
    ap.add_argument("--show", type=int, default=30)
    ap.add_argument("--cases", default=os.path.join(CONF, "cases"))
    ap.add_argument("--no-history", action="store_true")
    args = ap.parse_args()
    cases = run.load_cases([args.cases], args.filter, "jsonpath")
    todo = []
    skipped = collections.Counter()
    for c in cases:
        unmet = run.unmet_requirements(c)
        if unmet:
            skipped[unmet[0]] += 1
            continue
        todo.append(c)
    static = {}
    jobs = []
    plans = []
    for i, c in enumerate(todo):
        p = run.Plan(c, "ee", i)
        static.update(p.lambda_map)
        plans.append(p)
        jobs.append({"id": str(i), "sm_name": p.sm_name, "exec_name": p.exec_name, "role_arn": p.role_arn,
                     "type": p.sm_type, "definition": p.definition_text, "input": p.input_text})
    stub = lambdas.LambdaStub(static=static).start()
    with tempfile.TemporaryDirectory() as d:
        jp, op = os.path.join(d, "jobs.json"), os.path.join(d, "obs.json")
        json.dump(jobs, open(jp, "w"))
        env = dict(os.environ, STEPWELL_CONF_JOBS=jp, STEPWELL_CONF_OUT=op, STEPWELL_CONF_LAMBDA=stub.endpoint)
        r = subprocess.run(["go", "test", "-count=1", "-run", "^TestConformanceJobs$", "./engine/"], cwd=REPO, env=env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout[-5000:], r.stderr[-5000:])
            sys.exit(1)
        obs = json.load(open(op))
    stub.stop()
    results = collections.defaultdict(lambda: [0, 0])
    fails = []
    for c, p, o in zip(todo, plans, obs):
        area = run.case_area(c["name"])
        if o.get("load_error"):
            mm = {"path": "CreateStateMachine", "why": o["load_error"]}
        else:
            hist = [json.loads(json.dumps(h)) for h in (o.get("history") or [])]
            ob = {"status": o["status"], "describe": o["describe"], "history": hist, "premap": []}
            try:
                mm = run.evaluate(c, p, ob, with_history=not args.no_history)
            except Exception as e:  # noqa
                mm = {"path": "evaluate", "why": repr(e)}
        results[area][0 if mm is None else 1] += 1
        if mm is not None:
            fails.append((c["name"], mm))
    tot_p = sum(v[0] for v in results.values())
    tot_f = sum(v[1] for v in results.values())
    for a, (pp, ff) in sorted(results.items()):
        print(f"{a:24s} {pp:4d} passed {ff:4d} failed")
    for n, mm in fails[:args.show]:
        print("FAIL", n)
        print("    ", json.dumps(mm, default=str)[:800])
    print(f"{tot_p} passed, {tot_f} failed, skipped {dict(skipped)}")


if __name__ == "__main__":
    main()
