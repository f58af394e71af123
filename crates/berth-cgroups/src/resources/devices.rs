//! Device rules: runc's default allow-list, v1 `devices.allow`/`deny`
//! writes, and the v2 eBPF program (`BPF_PROG_TYPE_CGROUP_DEVICE`) that
//! does the same job, generated here as plain instructions; loading and
//! attaching it is a system call the caller supplies.

use berth_spec::resources::DeviceRule;

use super::Write;

/// runc's default rules (`specconv.AllowedDevices`), appended after the
/// config's own: mknod of any node, then read/write/mknod of the
/// standard character devices, the console, ptys and `/dev/ptmx`.
pub fn default_rules() -> Vec<DeviceRule> {
    let rule = |kind, major: Option<u32>, minor: Option<u32>, access: &str| DeviceRule {
        allow: true,
        kind,
        major,
        minor,
        access: access.to_string(),
    };
    let mut rules = vec![rule('c', None, None, "m"), rule('b', None, None, "m")];
    for (major, minor) in [
        (1, 3),
        (1, 8),
        (1, 7),
        (5, 0),
        (1, 5),
        (1, 9),
        (5, 1),
        (5, 2),
    ] {
        rules.push(rule('c', Some(major), Some(minor), "rwm"));
    }
    rules.push(rule('c', Some(136), None, "rwm"));
    rules
}

/// v1: deny everything, then each rule in order (the kernel applies
/// them one by one, so a later rule overrides an earlier one). The first
/// `configured` rules are the config's `linux.resources.devices`.
pub fn v1_writes(rules: &[DeviceRule], configured: usize) -> Vec<Write> {
    let mut out = vec![Write::new("devices.deny", "a", "devices")];
    for (i, r) in rules.iter().enumerate() {
        let file = if r.allow {
            "devices.allow"
        } else {
            "devices.deny"
        };
        let field = if i < configured {
            format!("devices[{i}]")
        } else {
            "devices (runc's default allow-list)".to_string()
        };
        out.push(Write::new(file, rule_text(r), &field));
    }
    out
}

/// `c 1:3 rwm`, `*` for a wildcard number.
fn rule_text(r: &DeviceRule) -> String {
    let num = |n: Option<u32>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
    format!("{} {}:{} {}", r.kind, num(r.major), num(r.minor), r.access)
}

/// One eBPF instruction (`struct bpf_insn`), as the kernel reads it.
pub type Insn = [u8; 8];

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    let [o0, o1] = off.to_le_bytes();
    let [i0, i1, i2, i3] = imm.to_le_bytes();
    [code, dst | (src << 4), o0, o1, i0, i1, i2, i3]
}

const LDXW: u8 = 0x61; // BPF_LDX | BPF_W | BPF_MEM
const MOV_REG: u8 = 0xbf; // BPF_ALU64 | BPF_MOV | BPF_X
const MOV_IMM: u8 = 0xb7; // BPF_ALU64 | BPF_MOV | BPF_K
const AND_IMM: u8 = 0x57; // BPF_ALU64 | BPF_AND | BPF_K
const RSH_IMM: u8 = 0x77; // BPF_ALU64 | BPF_RSH | BPF_K
const JNE32_IMM: u8 = 0x56; // BPF_JMP32 | BPF_JNE | BPF_K
const JEQ_IMM: u8 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JNE_IMM: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT

/// `BPF_DEVCG_ACC_*` bits of an access string.
fn access_bits(access: &str) -> i32 {
    access.chars().fold(0, |acc, c| {
        acc | match c {
            'm' => 1,
            'r' => 2,
            'w' => 4,
            _ => 0,
        }
    })
}

/// The program for `rules`: the last matching rule decides (as the v1
/// kernel list does), no match denies. Registers: r2 access, r3 type,
/// r4 major, r5 minor (from `struct bpf_cgroup_dev_ctx` in r1). A rule
/// that matches everything (`a *:* rwm`) ends the program: the verifier
/// refuses unreachable instructions after it.
pub fn ebpf_program(rules: &[DeviceRule]) -> Vec<Insn> {
    let mut prog = vec![
        insn(LDXW, 2, 1, 0, 0),
        insn(MOV_REG, 3, 2, 0, 0),
        insn(AND_IMM, 3, 0, 0, 0xffff),
        insn(RSH_IMM, 2, 0, 0, 16),
        insn(LDXW, 4, 1, 4, 0),
        insn(LDXW, 5, 1, 8, 0),
    ];
    for r in rules.iter().rev() {
        let block = rule_block(r);
        // Only "set r0, exit": it matches every access.
        let unconditional = block.len() == 2;
        prog.extend(block);
        if unconditional {
            return prog;
        }
    }
    prog.push(insn(MOV_IMM, 0, 0, 0, 0));
    prog.push(insn(EXIT, 0, 0, 0, 0));
    prog
}

/// Checks that jump past the block when the rule does not match, then
/// "return allow".
fn rule_block(r: &DeviceRule) -> Vec<Insn> {
    // (code, dst, imm) of each conditional jump; offsets patched below.
    let mut checks: Vec<Vec<Insn>> = Vec::new();
    match r.kind {
        'b' => checks.push(vec![insn(JNE32_IMM, 3, 0, 0, 1)]),
        'c' => checks.push(vec![insn(JNE32_IMM, 3, 0, 0, 2)]),
        _ => {}
    }
    let acc = access_bits(&r.access);
    if r.allow && acc != 7 {
        // Every requested bit must be allowed.
        checks.push(vec![
            insn(MOV_REG, 1, 2, 0, 0),
            insn(AND_IMM, 1, 0, 0, !acc & 7),
            insn(JNE_IMM, 1, 0, 0, 0),
        ]);
    } else if !r.allow && acc != 7 {
        // Any requested bit among the denied ones.
        checks.push(vec![
            insn(MOV_REG, 1, 2, 0, 0),
            insn(AND_IMM, 1, 0, 0, acc),
            insn(JEQ_IMM, 1, 0, 0, 0),
        ]);
    }
    for (reg, n) in [(4, r.major), (5, r.minor)] {
        if let Some(n) = n {
            checks.push(vec![insn(
                JNE32_IMM,
                reg,
                0,
                0,
                i32::from_ne_bytes(n.to_ne_bytes()),
            )]);
        }
    }
    let mut block: Vec<Insn> = checks.into_iter().flatten().collect();
    block.push(insn(MOV_IMM, 0, 0, 0, i32::from(r.allow)));
    block.push(insn(EXIT, 0, 0, 0, 0));
    let len = block.len();
    for (i, ins) in block.iter_mut().enumerate() {
        if matches!(ins[0], JNE32_IMM | JEQ_IMM | JNE_IMM) {
            let skip = i16::try_from(len - i - 1).unwrap_or(i16::MAX);
            ins[2..4].copy_from_slice(&skip.to_le_bytes());
        }
    }
    block
}

#[cfg(test)]
mod tests;
