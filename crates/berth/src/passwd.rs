//! Reading passwd(5) text without NSS: berth is a static binary, and glibc's
//! getpwuid would try to load NSS modules at run time. runc reads the file
//! the same way.

/// One passwd(5) line's fields that berth uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Login name.
    pub name: &'a str,
    /// Home directory.
    pub home: &'a str,
}

/// The entry of `uid` in passwd(5) `text`.
pub fn lookup(text: &str, uid: u32) -> Option<Entry<'_>> {
    text.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() >= 7 && fields[2].parse() == Ok(uid)).then(|| Entry {
            name: fields[0],
            home: fields[5],
        })
    })
}

/// The login name of `uid` from the host's `/etc/passwd`, or the number.
pub fn user_name(uid: u32) -> String {
    let text = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    lookup(&text, uid).map_or_else(|| uid.to_string(), |e| e.name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_name_and_home_by_uid() {
        let text = "root:x:0:0:root:/root:/bin/sh\n# comment\nuser:x:1000:1000::/home/user:/bin/sh\nshort:x:5\n";
        assert_eq!(
            lookup(text, 1000),
            Some(Entry {
                name: "user",
                home: "/home/user"
            })
        );
        assert_eq!(lookup(text, 0).map(|e| e.home), Some("/root"));
        assert_eq!(lookup(text, 5), None);
        assert_eq!(lookup(text, 7), None);
    }
}
