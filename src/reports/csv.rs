//! CSV: one file per table (UTF-8 with a byte-order mark, which spreadsheet programs need to
//! read Chinese), or all of them in one zip.

use std::io::Write;

use super::tables::Table;

fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

pub fn table(table: &Table) -> Vec<u8> {
    let mut out = String::from("\u{FEFF}");
    let line = |cells: Vec<String>| cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",");
    out.push_str(&line(table.header.clone()));
    out.push_str("\r\n");
    for row in &table.rows {
        out.push_str(&line(row.iter().map(|c| c.text()).collect()));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// Every table as `<name>.csv` in one zip archive.
pub fn zip(tables: &[Table], prefix: &str) -> std::io::Result<Vec<u8>> {
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for t in tables {
        archive
            .start_file(format!("{prefix}-{}.csv", t.name), options)
            .map_err(std::io::Error::other)?;
        archive.write_all(&table(t))?;
    }
    Ok(archive
        .finish()
        .map_err(std::io::Error::other)?
        .into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::tables::Cell;

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        let t = Table {
            name: "types",
            title: "诉求类型".into(),
            header: vec!["类型".into(), "数量(件)".into(), "占比".into()],
            rows: vec![
                vec![
                    Cell::Text("咨询类".into()),
                    Cell::Count(1318),
                    Cell::Ratio(Some(0.2942)),
                ],
                vec![
                    Cell::Text("说\"明\",一".into()),
                    Cell::Count(0),
                    Cell::Ratio(None),
                ],
            ],
        };
        let text = String::from_utf8(table(&t)).unwrap();
        assert_eq!(
            text,
            "\u{FEFF}类型,数量(件),占比\r\n咨询类,1318,29.4%\r\n\"说\"\"明\"\",一\",0,—\r\n"
        );
    }
}
