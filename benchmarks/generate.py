"""Generate realistic 837P/837I files of any size, streamed to disk (constant memory).

    python benchmarks/generate.py --kind P --claims 20000 --out benchmarks/data/p20k.837
    python benchmarks/generate.py --kind P --size-mb 1000 --out benchmarks/data/p1g.837

Claims have 1-6 lines: J-code drug lines (with and without loop 2410) among E/M and
administration lines, several billing providers and payers, subscribers with and without a
dependent patient (2000C), and about 5 % defects (missing NDC, units over the MUE, JW+JZ,
hyphenated NDC, bad diagnosis pointer). At most --claims-per-st claims per ST/SE (the 837 TR3
recommends 5,000). All names and ids are synthetic. The same seed gives the same bytes.

By default each line is a drug line with probability 0.6, so ~89 % of claims have at least one
drug line. --drug-share F makes a fraction F of the claims drug claims instead (drawn from a
second random stream, so the file without the option is byte for byte what it always was): a
drug claim's first line is a drug line and its others are drug lines with probability 0.6 as
before; every line of the other claims is an E/M or administration line.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

# (code, NDC, CTP quantity, CTP unit, units, single-dose) consistent with the sample crosswalk
DRUGS = [
    ("J2260", "00143932610", "20", "ML", "4", False),
    ("J9045", "00703423901", "60", "ML", "12", False),
    ("J2315", "65757030001", "1", "UN", "380", True),
    ("J9299", "00003373413", "24", "ML", "240", True),
    ("J0897", "55513071001", "1", "UN", "60", True),
    ("J2506", "55513019001", "0.6", "ML", "12", True),
    ("J2270", "00409113403", "1", "ML", "5", False),
    ("J9262", "63459017714", "1.25", "ME", "125", True),
]
OTHER = [("99213", "110"), ("96413", "300"), ("96372", "40")]
PAYERS = [("MEDCR1", "MEDICARE PART B TEST"), ("COMMA", "EXAMPLE COMMERCIAL A"),
          ("COMMB", "EXAMPLE COMMERCIAL B"), ("MCD01", "STATE MEDICAID TEST")]
DX = ["C9210", "C3490", "M810", "F1120", "C561", "I5022", "Z5111", "E119", "I10", "M5450"]


def npi(base9: str) -> str:
    digits = "80840" + base9
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return base9 + str((10 - total % 10) % 10)


PROVIDERS = [(f"SYNTHETIC CLINIC {i}", npi(f"1{i:08d}")) for i in range(1, 9)]


def _claim(rng: random.Random, n: int, kind: str, dos: str,
           want_drugs: bool | None = None) -> tuple[list[str], int]:
    """One claim's segments. ``want_drugs`` None: each line a drug line with probability 0.6
    (the default stream); True: the first line a drug line, the others as by default; False:
    no drug line. The main stream draws the same numbers in the same order in all three."""
    lines: list[list[str]] = []
    total = 0
    defect = rng.random() < 0.05
    kinds = rng.randint(1, 6)
    drugs = rng.sample(DRUGS, len(DRUGS))
    for i in range(1, kinds + 1):
        drug = rng.random() < 0.6
        if want_drugs is not None:
            drug = want_drugs and (drug or i == 1)
        if drug and drugs:
            code, ndc, qty, uom, units, single = drugs.pop()
            mods = ["JZ"] if single else []
            with_ndc = True
            if defect and i == 1:
                choice = rng.randrange(5)
                if choice == 0:
                    with_ndc = False
                elif choice == 1:
                    units = str(int(float(units)) * 50)
                elif choice == 2:
                    mods = ["JW", "JZ"]
                elif choice == 3:
                    ndc = f"{ndc[:5]}-{ndc[5:9]}-{ndc[9:]}"
            charge = rng.randint(50, 5000)
            total += charge
            comp = ":".join(["HC", code, *mods])
            pointer = "9" if defect and i == 1 and rng.random() < 0.2 else "1"
            if kind == "P":
                seg = [f"LX*{i}", f"SV1*{comp}*{charge}*UN*{units}***{pointer}"]
            else:
                seg = [f"LX*{i}", f"SV2*0636*{comp}*{charge}*UN*{units}"]
            seg += [f"DTP*472*D8*{dos}", f"REF*6R*{n}-{i}"]
            if with_ndc:
                seg += [f"LIN**N4*{ndc}", f"CTP****{qty}*{uom}"]
        else:
            code, price = rng.choice(OTHER)
            charge = int(price)
            total += charge
            if kind == "P":
                seg = [f"LX*{i}", f"SV1*HC:{code}*{charge}*UN*1***1", f"DTP*472*D8*{dos}",
                       f"REF*6R*{n}-{i}"]
            else:
                seg = [f"LX*{i}", f"SV2*0510*HC:{code}*{charge}*UN*1", f"DTP*472*D8*{dos}",
                       f"REF*6R*{n}-{i}"]
        lines.append(seg)
    dx = rng.sample(DX, 2)
    codes = {s.split("*")[1 if s.startswith("SV1") else 2].split(":")[1]
             for seg in lines for s in seg if s.startswith(("SV1", "SV2"))}
    if "J9262" in codes:
        dx[0] = "C9210"
    elif "J2315" in codes:
        dx[0] = "F1120"
    if dx[1] == dx[0]:
        dx[1] = "Z5111" if dx[0] != "Z5111" else "I10"
    if kind == "P":
        head = [f"CLM*SYN{n:09d}*{total}***11:B:1*Y*A*Y*Y", f"REF*G1*AUTH{n:07d}",
                f"HI*ABK:{dx[0]}*ABF:{dx[1]}"]
    else:
        head = [f"CLM*SYN{n:09d}*{total}***13:A:1**A*Y*Y", f"DTP*434*RD8*{dos}-{dos}",
                "CL1*1*9*01", f"REF*G1*AUTH{n:07d}", f"HI*ABK:{dx[0]}", f"HI*ABF:{dx[1]}",
                "NM1*71*1*ATTENDING*SYN****XX*" + npi("112345678")]
    return head + [s for seg in lines for s in seg], 1


def transactions(rng: random.Random, kind: str, claims: int, per_st: int,
                 share: tuple[random.Random, float] | None = None) -> Iterator[list[str]]:
    version = "005010X222A1" if kind == "P" else "005010X223A2"
    n = 0
    st = 0
    while n < claims:
        st += 1
        segs = [f"ST*837*{st:04d}*{version}", f"BHT*0019*00*SYN{st:06d}*20260301*1200*CH",
                "NM1*41*2*SYNTHETIC SUBMITTER*****46*SUBMIT01", "PER*IC*DESK*TE*5555550100",
                "NM1*40*2*SCRUB837 CLEARINGHOUSE*****46*CLRHOUSE"]
        hl = 0
        in_st = 0
        while in_st < per_st and n < claims:
            name, prov_npi = rng.choice(PROVIDERS)
            hl += 1
            prov = hl
            segs += [f"HL*{hl}**20*1", f"NM1*85*2*{name}*****XX*{prov_npi}", "N3*1 SYNTHETIC WAY",
                     "N4*SPRINGFIELD*IL*627010001", "REF*EI*371234567"]
            for _ in range(rng.randint(1, 5)):
                if in_st >= per_st or n >= claims:
                    break
                payer, pname = rng.choice(PAYERS)
                hl += 1
                sub = hl
                child = rng.random() < 0.2
                segs += [f"HL*{hl}*{prov}*22*{1 if child else 0}",
                         f"SBR*P*{'' if child else '18'}*******CI",
                         f"NM1*IL*1*SYNTHLAST{n}*SYNTHFIRST****MI*SYN{n:09d}",
                         "N3*2 SYNTHETIC ROAD", "N4*SPRINGFIELD*IL*627010002",
                         "DMG*D8*19600101*F", f"NM1*PR*2*{pname}*****PI*{payer}"]
                if child:
                    hl += 1
                    segs += [f"HL*{hl}*{sub}*23*0", "PAT*19", f"NM1*QC*1*SYNTHKID{n}*SYN",
                             "N3*2 SYNTHETIC ROAD", "N4*SPRINGFIELD*IL*627010002",
                             "DMG*D8*20100101*M"]
                for _ in range(rng.randint(1, 3)):
                    if in_st >= per_st or n >= claims:
                        break
                    n += 1
                    in_st += 1
                    dos = f"2026{rng.randint(1, 9):02d}{rng.randint(1, 28):02d}"
                    want = None if share is None else share[0].random() < share[1]
                    claim, _ = _claim(rng, n, kind, dos, want)
                    segs += claim
        segs.append(f"SE*{len(segs) + 1}*{st:04d}")
        yield segs


def write(out: TextIO, kind: str, claims: int, seed: int, per_st: int, newlines: bool,
          drug_share: float | None = None) -> None:
    rng = random.Random(seed)
    # a second stream decides which claims have drug lines, leaving the main one as it was
    share = None if drug_share is None else (random.Random(f"drug-share {seed}"), drug_share)
    end = "~\n" if newlines else "~"
    version = "005010X222A1" if kind == "P" else "005010X223A2"
    isa = ("ISA*00*          *00*          *ZZ*SUBMIT01       *ZZ*CLRHOUSE       *260301*1200*"
           "^*00501*000000001*0*T*:")
    out.write(isa + end + f"GS*HC*SUBMIT01*CLRHOUSE*20260301*1200*1*X*{version}" + end)
    count = 0
    for segs in transactions(rng, kind, claims, per_st, share):
        out.write(end.join(segs) + end)
        count += 1
    out.write(f"GE*{count}*1" + end + "IEA*1*000000001" + end)


def claims_for_size(size_mb: float) -> int:
    return max(1, int(size_mb * 1_000_000 / 540))  # ~540 bytes a claim on average


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kind", choices=("P", "I"), default="P",
                   help="P: 837P professional (005010X222A1), I: 837I institutional "
                   "(005010X223A2) (default P)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--claims", type=int, metavar="N",
                      help="number of claims (default 20000)")
    size.add_argument("--size-mb", type=float, metavar="MB",
                      help="about this many megabytes instead (~540 bytes a claim)")
    p.add_argument("--seed", type=int, default=837,
                   help="random seed; the same seed gives the same bytes (default 837)")
    p.add_argument("--claims-per-st", type=int, default=5000, metavar="N",
                   help="at most N claims per ST/SE transaction (default 5000, the TR3's "
                   "recommended maximum)")
    p.add_argument("--drug-share", type=float, metavar="F",
                   help="fraction of claims with drug lines, 0..1 (default: each line a drug "
                   "line with probability 0.6, ~0.89 of claims; without this option the "
                   "bytes are unchanged)")
    p.add_argument("--no-newlines", action="store_true",
                   help="no newline after each segment terminator '~'")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="output file ('-' for standard output)")
    args = p.parse_args(argv)
    claims = args.claims or (claims_for_size(args.size_mb) if args.size_mb else 20000)
    if args.drug_share is not None and not 0 <= args.drug_share <= 1:
        p.error("--drug-share must be between 0 and 1")
    if args.out == "-":
        write(sys.stdout, args.kind, claims, args.seed, args.claims_per_st, not args.no_newlines,
              args.drug_share)
    else:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "w", buffering=1 << 20) as f:
            write(f, args.kind, claims, args.seed, args.claims_per_st, not args.no_newlines,
                  args.drug_share)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
