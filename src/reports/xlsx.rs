//! XLSX: one sheet per table, numbers kept as numbers (shares and rates as percentages) so the
//! office can go on working with them.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::tables::{Cell, Table};

pub fn workbook(title: &str, tables: &[Table]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let percent = Format::new().set_num_format("0.0%");
    let change = Format::new().set_num_format("+0.0%;-0.0%;0.0%");
    let decimal = Format::new().set_num_format("0.0");
    for table in tables {
        let sheet = workbook.add_worksheet();
        // Sheet names are at most 31 characters; the captions are short.
        sheet.set_name(table.title.chars().take(31).collect::<String>())?;
        sheet.write_string_with_format(0, 0, format!("{title} {}", table.title), &bold)?;
        for (c, name) in table.header.iter().enumerate() {
            sheet.write_string_with_format(2, c as u16, name, &bold)?;
            sheet.set_column_width(c as u16, if c == 0 { 24 } else { 11 })?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let r = r as u32 + 3;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(text) => {
                        sheet.write_string(r, c, text)?;
                    }
                    Cell::Count(n) => {
                        sheet.write_number(r, c, *n as f64)?;
                    }
                    Cell::Ratio(Some(x)) => {
                        sheet.write_number_with_format(r, c, *x, &percent)?;
                    }
                    Cell::Change(Some(x)) => {
                        sheet.write_number_with_format(r, c, *x, &change)?;
                    }
                    Cell::Points(Some(x)) | Cell::Number(x) => {
                        sheet.write_number_with_format(r, c, *x, &decimal)?;
                    }
                    Cell::Ratio(None) | Cell::Change(None) => {
                        sheet.write_string(r, c, "—")?;
                    }
                    Cell::Points(None) => {}
                }
            }
        }
    }
    workbook.save_to_buffer()
}
