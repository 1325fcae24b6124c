//! The data symbols of the app's objects and their addresses, read from wasm-ld's link map
//! (`-Wl,-Map=`): what lets a patch use a host global — `static` or hidden ones too — that the
//! host does not export. The map lists, under DATA, each input section (`file.o:(.bss.name)`)
//! and below it the symbols it defines, with their offset from the memory base.

use std::collections::BTreeMap;
use std::path::Path;

/// Offsets (from the memory base) of the symbols defined by input sections of `objects`, by
/// name; a name defined twice is left out (a patch's name could not say which one).
pub fn data_symbols(map: &str, objects: &[&Path]) -> BTreeMap<String, u32> {
    once_each(
        entries(map)
            .into_iter()
            .filter(|e| objects.iter().any(|o| Path::new(&e.file) == *o)),
    )
}

/// [`data_symbols`] chosen by name instead of by object: a Rust host's app code reaches the
/// link only as the LTO object rustc writes, so its statics are known by their mangled names.
pub fn data_symbols_named(map: &str, keep: &dyn Fn(&str) -> bool) -> BTreeMap<String, u32> {
    once_each(entries(map).into_iter().filter(|e| keep(&e.name)))
}

/// A symbol the map lists under DATA, with the input file whose section defines it.
struct Entry {
    file: String,
    name: String,
    offset: u32,
}

fn entries(map: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut in_data = false;
    let mut file = String::new();
    for line in map.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let [va, _lma, _size, name] = cols.as_slice() else {
            continue;
        };
        if *va == "-" {
            in_data = *name == "DATA";
            continue;
        }
        if !in_data {
            continue;
        }
        if let Some((f, _section)) = name.split_once(":(") {
            file = f.to_string();
            continue;
        }
        if name.starts_with('.') {
            continue;
        }
        if let Ok(offset) = u32::from_str_radix(va, 16) {
            out.push(Entry {
                file: file.clone(),
                name: name.to_string(),
                offset,
            });
        }
    }
    out
}

/// The entries by name, without the names listed twice.
fn once_each(entries: impl Iterator<Item = Entry>) -> BTreeMap<String, u32> {
    let mut found: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for e in entries {
        found.entry(e.name).or_default().push(e.offset);
    }
    found
        .into_iter()
        .filter_map(|(name, at)| (at.len() == 1).then(|| (name, at[0])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_symbols_under_data_are_read_with_their_offsets_and_a_name_defined_twice_is_left_out() {
        let map = "\
       -     2624      6be DATA
       0     2625      6b4 .data
      10     263b       90         /lib/libc.a(stdout.o):(.data.__stdout_FILE)
      10     263b       90                 __stdout_FILE
      a0     26cb        4         /app/obj/a.c.o:(.bss.frames)
      a0     26cb        4                 frames
      a4     26cf        4         /app/obj/a.c.o:(.bss.level)
      a4     26cf        4                 level
      a8     26d3        4         /app/obj/b.c.o:(.bss.level)
      a8     26d3        4                 level
       -     2ce2      308 CUSTOM(name)
";
        let objects = [Path::new("/app/obj/a.c.o"), Path::new("/app/obj/b.c.o")];
        let got = data_symbols(map, &objects);
        assert_eq!(
            got.into_iter().collect::<Vec<_>>(),
            vec![("frames".to_string(), 0xa0)]
        );
    }
}
