#!/usr/bin/env python3
"""Generates events_gen.go from the Step Functions API model (run: go generate ./history)."""
import json, re, subprocess, sys

model_path = sys.argv[1] if len(sys.argv) > 1 else "../../shared/spec/stepfunctions-api-model.json"
m = json.load(open(model_path))
shapes = m["shapes"]

def go_name(s):
    s = s[0].upper() + s[1:]
    return re.sub(r"Arn$", "ARN", s).replace("Arn", "ARN") if False else s

emitted, order = set(), []
def field_type(member_name, shape_name, meta):
    sh = shapes[shape_name]
    t = sh["type"]
    if t == "string":
        if member_name in ("error", "cause"):
            return "*string", True
        return "string", True
    if t == "boolean":
        return "bool", False
    if t in ("integer", "long"):
        if meta.get("box"):
            return "*int64", True
        return "int64", False
    if t == "structure":
        need(shape_name)
        return "*" + shape_name, True
    if t == "map":
        return "map[string]string", True
    if t == "list":
        return "[]string", True
    if t == "timestamp":
        return "*float64", True
    raise SystemExit("unknown type %s for %s" % (t, shape_name))

def need(name):
    if name not in emitted:
        emitted.add(name)
        order.append(name)

he = shapes["HistoryEvent"]
for mn, mm in he["members"].items():
    if mn.endswith("Details") or mn.endswith("DetailsBoxed"):
        need(mm["shape"])
i = 0
out = []
while i < len(order):
    name = order[i]; i += 1
    sh = shapes[name]
    doc = re.sub(r"<[^>]+>", "", sh.get("documentation", "")).strip().split(". ")[0]
    out.append("// %s mirrors the AWS shape of the same name%s.\ntype %s struct {" % (name, (": " + doc.rstrip(".")) if doc else "", name))
    for mn, mm in sh["members"].items():
        t, omit = field_type(mn, mm["shape"], mm)
        fname = mn[0].upper() + mn[1:]
        tag = mn + (",omitempty" if omit else "")
        out.append("\t%s %s `json:\"%s\"`" % (fname, t, tag))
    out.append("}\n")

# The HistoryEvent members that hold an event's details (not its header).
detail_members = [(mn, mm) for mn, mm in he["members"].items() if mn not in ("timestamp", "type", "id", "previousEventId")]

evt = ["// Event is one history event, shaped like the AWS HistoryEvent.", "type Event struct {",
       "\tTimestamp time.Time `json:\"-\"`", "\tType EventType `json:\"type\"`", "\tID int64 `json:\"id\"`",
       "\tPreviousEventID int64 `json:\"previousEventId\"`",
       "\t// Thread names the line of control that emitted the event (\"\" for the top level, \"b1\" for Parallel branch 1,",
       "\t// \"m3\" for Map iteration 3, nested as \"m3/b0\"). It is Stepwell's own, never sent to clients, and lets",
       "\t// recovery replay each branch's events in order.",
       "\tThread string `json:\"-\"`"]
for mn, mm in detail_members:
    fname = mn[0].upper() + mn[1:]
    evt.append("\t%s *%s `json:\"%s,omitempty\"`" % (fname, mm["shape"], mn))
evt.append("}\n")

types = ["// EventType is the type of a history event.", "type EventType string", "", "// Event types, as AWS names them.", "const ("]
for e in shapes["HistoryEventType"]["enum"]:
    types.append("\t%s EventType = %s" % (e, json.dumps(e)))
types.append(")\n")
types.append("// EventTypes returns every event type, in the model's order.")
types.append("func EventTypes() []EventType {")
types.append("\treturn []EventType{" + ", ".join(shapes["HistoryEventType"]["enum"]) + "}")
types.append("}\n")

# WithoutData: every details member that carries execution data (the members
# named in data_members, with their "...Details" companions) is cleared.
data_members = ("input", "output", "parameters", "assignedVariables")
zero = {"string": '""', "bool": "false", "int64": "0"}
strip = ["// WithoutData returns a copy of e without its execution data (input, output,",
         "// parameters and assigned variables, with their details), as GetExecutionHistory",
         "// returns events when includeExecutionData is false. The details it changes",
         "// are copied: e's own are left untouched, so stored events may be passed.",
         "func (e Event) WithoutData() Event {"]
for mn, mm in detail_members:
    sh = shapes[mm["shape"]]
    if sh["type"] != "structure":
        continue
    cleared = []
    for dn in data_members:
        for n in (dn, dn + "Details"):
            if n in sh["members"]:
                t, _ = field_type(n, sh["members"][n]["shape"], sh["members"][n])
                cleared.append((n[0].upper() + n[1:], zero.get(t, "nil")))
    if not cleared:
        continue
    fname = mn[0].upper() + mn[1:]
    strip.append("\tif d := e.%s; d != nil {" % fname)
    strip.append("\t\tc := *d")
    strip.append("\t\t%s = %s" % (", ".join("c." + f for f, _ in cleared), ", ".join(z for _, z in cleared)))
    strip.append("\t\te.%s = &c" % fname)
    strip.append("\t}")
strip.append("\treturn e")
strip.append("}\n")

count = ["// DetailsSet counts the details members of e that are set (non-nil).", "func (e *Event) DetailsSet() int {", "\tn := 0"]
for mn, mm in detail_members:
    fname = mn[0].upper() + mn[1:]
    count.append("\tif e.%s != nil {" % fname)
    count.append("\t\tn++")
    count.append("\t}")
count.append("\treturn n")
count.append("}\n")

src = "// Code generated by gen.py from the Step Functions API model; DO NOT EDIT.\n\npackage history\n\nimport \"time\"\n\n" + "\n".join(types) + "\n" + "\n".join(evt) + "\n" + "\n".join(strip) + "\n" + "\n".join(count) + "\n" + "\n".join(out)
open("events_gen.go", "w").write(src)
subprocess.run(["gofmt", "-w", "events_gen.go"], check=True)
