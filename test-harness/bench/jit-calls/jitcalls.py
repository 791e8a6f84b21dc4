#!/usr/bin/env python3
"""What C2 decided for PipelineBenchmark's per-packet path, from a HotSpot -XX:+LogCompilation file
(BENCHMARKS.md, "What the JIT decides"). Deterministic evidence where timing is not: it reads the
compiler's own log, not a clock.

usage: jitcalls.py LOG --calls          the real calls a packet makes: from the JMH stub's last C2
                                        compile, every hot call C2 did not inline (and why), followed
                                        into the callee's own compile, with its code size
       jitcalls.py LOG --sizes REGEX    each C2 compile of a matching method: id, code bytes (the
                                        size InlineSmallCode, 2,500, is compared with), nmethod size
       jitcalls.py LOG --tree REGEX     the inlining tree of the last C2 compile of each matching
                                        method, the path's classes only, each decision's reason

A log: java -jar test-harness/target/benchmarks.jar PipelineBenchmark -p mode=redirect -p size=64
  -f 1 -wi 4 -w 1s -i 2 -r 1s -bm avgt -tu ns -jvmArgsAppend
  "-XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation -XX:LogFile=/tmp/redirect-%p.xml"
"""
import html
import re
import sys
from collections import defaultdict

ATTR = re.compile(r"(\w+)='([^']*)'")


def attrs(line):
    return {k: html.unescape(v) for k, v in ATTR.findall(line)}


def parse(path):
    tasks = []  # dicts: id, method, level, osr, tree, nmsize, traps
    nmethods = {}  # compile_id -> insts size
    cur = None
    klass = {}
    meth = {}
    stack = []
    pending = None  # (bci, method id) of the last <call>
    bci = None
    with open(path, errors="replace") as f:
        for line in f:
            s = line.strip()
            if s.startswith("<nmethod ") and "compiler='c2'" in s:
                a = attrs(s)
                nmethods[a["compile_id"]] = int(a["stub_offset"]) - int(a["insts_offset"])
                continue
            if s.startswith("<task ") and not s.startswith("<task_"):
                a = attrs(s)
                cur = {
                    "id": a["compile_id"],
                    "method": a["method"],
                    "level": a.get("level", "4"),
                    "osr": a.get("osr_bci"),
                    "root": None,
                    "nmsize": None,
                    "traps": [],
                    "stamp": a.get("stamp"),
                    "count": int(a.get("count", "0") or 0),
                }
                klass, meth, stack = {}, {}, []
                tasks.append(cur)
                continue
            if cur is None:
                continue
            if s.startswith("<klass "):
                a = attrs(s)
                klass[a["id"]] = a["name"].replace("/", ".")
            elif s.startswith("<method "):
                a = attrs(s)
                full = klass.get(a["holder"], a["holder"])
                meth[a["id"]] = (
                    full.split(".")[-1] + "::" + a["name"],
                    a.get("bytes", "?"),
                    a.get("compile_id"),
                )
            elif s.startswith("<bc "):
                bci = attrs(s).get("bci")
            elif s.startswith("<call "):
                a = attrs(s)
                pending = {
                    "bci": bci,
                    "m": meth.get(a["method"], (a["method"], "?", None)),
                    "reason": None,
                    "children": [],
                    "virtual": a.get("instr") in ("invokevirtual", "invokeinterface")
                    and "receiver" in a,
                    "recv": [
                        klass.get(a[k], a[k]).split(".")[-1]
                        for k in ("receiver", "receiver2")
                        if k in a
                    ],
                    "instr": a.get("instr"),
                    "count": a.get("count"),
                }
                if stack:
                    stack[-1]["children"].append(pending)
            elif s.startswith("<inline_success") or s.startswith("<inline_fail"):
                a = attrs(s)
                if pending is not None:
                    ok = "inline" if s.startswith("<inline_success") else "FAIL"
                    pending["reason"] = ok + ": " + a.get("reason", "")
            elif s.startswith("<intrinsic"):
                if pending is not None:
                    pending["reason"] = "intrinsic " + attrs(s).get("id", "")
            elif s.startswith("<predicted_call") or s.startswith("<virtual_call"):
                if pending is not None:
                    pending["reason"] = (pending["reason"] or "") + " [" + s[1 : s.find(" ")] + "]"
            elif s.startswith("<uncommon_trap ") and stack:
                a = attrs(s)
                stack[-1].setdefault("traps", []).append(
                    (bci, a.get("reason"), a.get("action"))
                )
            elif s.startswith("<parse ") and not s.startswith("<parse_done"):
                a = attrs(s)
                m = meth.get(a["method"], (a["method"], "?", None))
                if not stack:
                    node = {"bci": None, "m": m, "reason": "root", "children": []}
                    cur["root"] = node
                else:
                    node = pending if pending is not None and pending["m"] == m else None
                    if node is None:
                        node = {"bci": "?", "m": m, "reason": "?", "children": []}
                        stack[-1]["children"].append(node)
                stack.append(node)
                pending = None
            elif s.startswith("</parse>"):
                if stack:
                    stack.pop()
            elif s.startswith("<task_done"):
                a = attrs(s)
                cur["nmsize"] = a.get("nmsize")
                cur["success"] = a.get("success")
                cur["inlined_bytes"] = a.get("inlined_bytes")
            elif s.startswith("</task>"):
                cur = None
    return tasks, nmethods


COMPACT = re.compile(r"^(ForwardingPath|IpInput|CheckIpHeader|EtherClassifier|RedirectLookup|RedirectLookup6|FlowTable|RedirectorTable|IpOutput|IpipEncap|GueEncap|MssClamp|Egress|NeighbourTable|RouteTable|PacketContext|FragmentTracker|TunnelToOrigin|IcmpErrorSender|LocalDelivery|Ipv6Path|ArpResponder|IpFragmenter|Maglev|NewFlowBudget|DeadHostServers|PipelineBenchmark|PipelineBenchmark_process_jmhTest|ForwardingPath\$RedirectLookup|Counters|InternetChecksum)::")


def show(node, depth, out, keep):
    name, size, _ = node["m"]
    line = "  " * depth + (("@%s " % node["bci"]) if node["bci"] is not None else "")
    line += "%s (%s B) %s" % (name, size, node["reason"] or "no decision")
    if node.get("recv"):
        line += " recv=" + "/".join(node["recv"])
    if node.get("traps"):
        line += " traps=" + ",".join("%s@%s" % (r, b) for b, r, a in node["traps"])
    out.append(line)
    for c in node["children"]:
        cname = c["m"][0]
        fail = "FAIL" in (c["reason"] or "")
        if COMPACT.search(cname) or (fail and not re.search(r"Exception|Error|String|Builder|format|Objects::|Unsafe::check", cname)):
            show(c, depth + 1, out, keep)
        elif c["children"]:
            # descend without printing: hidden frames may hold hydranet calls
            sub = []
            show(c, depth + 1, sub, keep)
            if any(COMPACT.search(l.strip().split(" ", 1)[-1]) or "FAIL" in l for l in sub[1:]):
                out.extend(sub)


def main():
    path = sys.argv[1]
    args = sys.argv[2:]
    if "--calls" in args:
        for line in boundaries(path):
            print(line.replace(" [predicted_call]", ""))
        return
    tasks, nm = parse(path)
    if "--sizes" in args:
        rx = re.compile(args[args.index("--sizes") + 1])
        for t in tasks:
            if t["level"] == "4" and rx.search(t["method"]):
                print(
                    "%6s %-4s %-90s insts=%s nmsize=%s inlined=%s"
                    % (
                        t["id"],
                        "osr" if t["osr"] else "",
                        t["method"][:90],
                        nm.get(t["id"]),
                        t["nmsize"],
                        t.get("inlined_bytes"),
                    )
                )
    if "--tree" in args:
        rx = re.compile(args[args.index("--tree") + 1])
        keep = re.compile(r"hydranet|agrona")
        last = {}
        for t in tasks:
            if t["level"] == "4" and rx.search(t["method"]) and t["root"]:
                last[(t["method"], bool(t["osr"]))] = t
        for (m, osr), t in last.items():
            print(
                "=== %s%s  id=%s insts=%s nmsize=%s"
                % (m, " (osr)" if osr else "", t["id"], nm.get(t["id"]), t["nmsize"])
            )
            out = []
            show(t["root"], 0, out, keep)
            print("\n".join(out))




def boundaries(path, min_ratio=0.1):
    """The per-packet compiled units: from the JMH stub's last C2 compile, every hydranet call left
    a real call (not inlined) whose profiled count is at least min_ratio of the stub's calls into
    the benchmark, followed into that callee's last C2 compile."""
    tasks, nm = parse(path)
    last = {}
    for t in tasks:
        if t["level"] == "4" and t["root"] and not t["osr"]:
            last[t["root"]["m"][0]] = t
    stub = last.get("PipelineBenchmark_process_jmhTest::process_avgt_jmhStub")
    out = []
    seen = set()
    if stub is None:
        return out

    def hot_count(node):
        try:
            return int(node.get("count") or 0)
        except ValueError:
            return 0

    def walk(node, unit, ref):
        for c in node["children"]:
            name = c["m"][0]
            reason = c["reason"] or ""
            cnt = hot_count(c)
            if "FAIL" in reason and "hydranet" not in name and not COMPACT.search(name):
                continue
            if "FAIL" in reason:
                if ref and cnt < min_ratio * ref:
                    continue
                if (unit, name) in seen:
                    continue
                seen.add((unit, name))
                callee = last.get(name)
                size = nm.get(callee["id"]) if callee else None
                out.append("%s -> %s [%s, count %s, callee compiled %s B]" % (unit, name, reason[6:], cnt, size))
                if callee and name not in seen:
                    seen.add(name)
                    walk(callee["root"], name, callee["count"])
            elif c["children"]:
                walk(c, unit, ref)

    # the benchmark's process() call count in the stub sets the reference
    ref = 0
    for c in stub["root"]["children"]:
        ref = max(ref, hot_count(c))
    walk(stub["root"], "stub", ref)
    return out


if __name__ == "__main__":
    main()
