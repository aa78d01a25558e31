using System.Globalization;
using System.Text;
using MiniExcelLibs;

namespace BeijingEts.Functions.Files;

/// <summary>An uploaded table, CSV or XLSX, as rows of named cells with the row number a person sees in the file.</summary>
public sealed record TabularFile(IReadOnlyList<string> Header, IReadOnlyList<(int Row, IReadOnlyDictionary<string, string> Cells)> Rows)
{
    public const string CsvMediaType = "text/csv";
    public const string XlsxMediaType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    /// <summary>Reads the file, or says in one sentence why it cannot be read.</summary>
    public static (TabularFile? File, string? Error) Read(byte[] content, string mediaType) => mediaType switch
    {
        CsvMediaType => ReadCsv(content),
        XlsxMediaType => ReadXlsx(content),
        _ => (null, $"Send the file as {CsvMediaType} (UTF-8, header row) or {XlsxMediaType}, not {mediaType}."),
    };

    private static (TabularFile?, string?) ReadCsv(byte[] content)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(content);
        }
        catch (DecoderFallbackException)
        {
            return (null, "The file is not UTF-8 text (perhaps GBK); save it as \"CSV UTF-8\" and send it again.");
        }
        List<(int Line, IReadOnlyList<string> Fields)> records;
        try
        {
            records = Csv.Read(text.TrimStart('\uFEFF')).ToList();
        }
        catch (FormatException error)
        {
            return (null, error.Message);
        }
        if (records.Count == 0) return (null, "The file is empty; it needs a header row and one row per unit.");
        var header = records[0].Fields.Select(h => h.Trim()).ToList();
        var rows = new List<(int, IReadOnlyDictionary<string, string>)>();
        foreach (var (line, fields) in records.Skip(1))
        {
            if (fields.Count != header.Count)
            {
                return (null, $"Line {line} has {fields.Count} fields but the header has {header.Count}; every row needs one field per column.");
            }
            rows.Add((line, header.Zip(fields).ToDictionary(p => p.First, p => p.Second.Trim(), StringComparer.OrdinalIgnoreCase)));
        }
        return (new TabularFile(header, rows), null);
    }

    private static (TabularFile?, string?) ReadXlsx(byte[] content)
    {
        try
        {
            using var stream = new MemoryStream(content);
            var header = stream.GetColumns(useHeaderRow: true, excelType: ExcelType.XLSX)?.Select(h => h?.Trim() ?? "").ToList() ?? [];
            stream.Position = 0;
            var rows = new List<(int, IReadOnlyDictionary<string, string>)>();
            var row = 1;
            foreach (IDictionary<string, object?> cells in stream.Query(useHeaderRow: true, excelType: ExcelType.XLSX))
            {
                row++;
                if (cells.Values.All(v => v is null || v.ToString()!.Length == 0)) continue;
                rows.Add((row, cells.ToDictionary(c => c.Key.Trim(), c => Text(c.Value), StringComparer.OrdinalIgnoreCase)));
            }
            if (header.Count == 0) return (null, "The spreadsheet is empty; it needs a header row and one row per unit.");
            return (new TabularFile(header, rows), null);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            return (null, "The file is not an XLSX spreadsheet that can be read; save it from a spreadsheet program as .xlsx and send it again.");
        }
    }

    private static string Text(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        DateTime t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture)!.Trim(),
    };
}
