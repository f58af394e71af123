use super::*;

/// Runs `prog` on a device access, interpreting just the opcodes the
/// generator emits; returns r0.
fn run(prog: &[Insn], kind: u32, access: u32, major: u32, minor: u32) -> u64 {
    let ctx = [(access << 16) | kind, major, minor];
    let mut r = [0u64; 11];
    let mut pc = 0usize;
    loop {
        let i = prog[pc];
        let (dst, src) = (usize::from(i[1] & 0xf), usize::from(i[1] >> 4));
        let off = i16::from_le_bytes([i[2], i[3]]);
        let imm = i32::from_le_bytes([i[4], i[5], i[6], i[7]]);
        let imm64 = i64::from(imm) as u64;
        let mut jump = false;
        match i[0] {
            LDXW => r[dst] = u64::from(ctx[usize::try_from(off).unwrap() / 4]),
            MOV_REG => r[dst] = r[src],
            MOV_IMM => r[dst] = imm64,
            AND_IMM => r[dst] &= imm64,
            RSH_IMM => r[dst] >>= imm,
            JNE32_IMM => jump = (r[dst] & 0xffff_ffff) != u64::from(imm as u32),
            JEQ_IMM => jump = r[dst] == imm64,
            JNE_IMM => jump = r[dst] != imm64,
            EXIT => return r[0],
            op => panic!("unexpected opcode {op:#x}"),
        }
        pc += 1;
        if jump {
            pc += usize::try_from(off).unwrap();
        }
    }
}

const BLOCK: u32 = 1;
const CHAR: u32 = 2;
const MKNOD: u32 = 1;
const READ: u32 = 2;
const WRITE: u32 = 4;

fn deny_all() -> DeviceRule {
    DeviceRule {
        allow: false,
        kind: 'a',
        major: None,
        minor: None,
        access: "rwm".into(),
    }
}

/// The kernel's verifier refuses instructions no path reaches: every
/// instruction must be the target of a jump or follow one that does not
/// exit.
fn assert_all_reachable(p: &[Insn]) {
    let mut reached = vec![false; p.len()];
    reached[0] = true;
    for (i, ins) in p.iter().enumerate() {
        if !reached[i] {
            panic!("instruction {i} is unreachable");
        }
        if ins[0] != EXIT && i + 1 < p.len() {
            reached[i + 1] = true;
        }
        if matches!(ins[0], JNE32_IMM | JEQ_IMM | JNE_IMM) {
            let off = usize::try_from(i16::from_le_bytes([ins[2], ins[3]])).unwrap();
            reached[i + 1 + off] = true;
        }
    }
    assert_eq!(p.last().map(|i| i[0]), Some(EXIT));
}

#[test]
fn deny_all_then_defaults() {
    let mut rules = vec![deny_all()];
    rules.extend(default_rules());
    let p = ebpf_program(&rules);
    assert_all_reachable(&p);
    // /dev/null read/write
    assert_eq!(run(&p, CHAR, READ | WRITE, 1, 3), 1);
    // mknod of any node, but not opening a block device
    assert_eq!(run(&p, BLOCK, MKNOD, 7, 0), 1);
    assert_eq!(run(&p, BLOCK, READ, 7, 0), 0);
    assert_eq!(run(&p, CHAR, READ, 10, 232), 0);
    // ptys by wildcard minor
    assert_eq!(run(&p, CHAR, READ | WRITE, 136, 9), 1);
    assert_eq!(run(&p, CHAR, READ | MKNOD, 1, 9), 1);
}

#[test]
fn later_rules_override_and_partial_access() {
    let rules = vec![
        deny_all(),
        DeviceRule {
            allow: true,
            kind: 'b',
            major: Some(7),
            minor: None,
            access: "r".into(),
        },
        DeviceRule {
            allow: false,
            kind: 'b',
            major: Some(7),
            minor: Some(1),
            access: "r".into(),
        },
    ];
    let p = ebpf_program(&rules);
    assert_eq!(run(&p, BLOCK, READ, 7, 0), 1);
    assert_eq!(run(&p, BLOCK, READ | WRITE, 7, 0), 0);
    assert_eq!(run(&p, BLOCK, READ, 7, 1), 0);
    assert_eq!(run(&p, CHAR, READ, 7, 0), 0);
    let allow_all = [DeviceRule {
        allow: true,
        ..deny_all()
    }];
    assert_eq!(run(&ebpf_program(&allow_all), BLOCK, READ, 8, 0), 1);
    assert_all_reachable(&p);
    assert_all_reachable(&ebpf_program(&allow_all));
    assert_eq!(run(&ebpf_program(&[]), CHAR, READ, 1, 3), 0);
}

#[test]
fn v1_writes_start_with_deny_all() {
    let mut rules = vec![deny_all()];
    rules.extend(default_rules());
    let w = v1_writes(&rules, 1);
    assert_eq!(
        (w[0].file.as_str(), w[0].value.as_str()),
        ("devices.deny", "a")
    );
    assert_eq!(w[1].value, "a *:* rwm");
    assert_eq!(w[1].field, "linux.resources.devices[0]");
    assert_eq!(w[2].value, "c *:* m");
    assert_eq!(w[4].value, "c 1:3 rwm");
    assert_eq!(
        w[4].field,
        "linux.resources.devices (runc's default allow-list)"
    );
    assert_eq!(w.last().map(|w| w.value.as_str()), Some("c 136:* rwm"));
}
