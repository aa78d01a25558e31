using System.Globalization;
using System.IO.Compression;
using System.Text;
using MiniExcelLibs;

namespace BeijingEts.Functions.Files;

/// <summary>
/// What reading one uploaded table may cost: an XLSX is a zip, so its parts are measured unpacked before the spreadsheet
/// reader sees them (a zip bomb is refused, not inflated); then rows, columns and time are bounded.
/// </summary>
public sealed record TabularLimits(long MaxUnpackedBytes, int MaxParts, int MaxRows, int MaxColumns, TimeSpan MaxTime)
{
    public static readonly TabularLimits Default = new(64L * 1024 * 1024, 256, 100_000, 200, TimeSpan.FromSeconds(30));
}

/// <summary>An uploaded table, CSV or XLSX, as rows of named cells with the row number a person sees in the file.</summary>
public sealed record TabularFile(IReadOnlyList<string> Header, IReadOnlyList<(int Row, IReadOnlyDictionary<string, string> Cells)> Rows)
{
    public const string CsvMediaType = "text/csv";
    public const string XlsxMediaType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    /// <summary>Reads the file within <paramref name="limits"/> (the defaults when null), or says in one sentence why it cannot be read.</summary>
    public static (TabularFile? File, string? Error) Read(byte[] content, string mediaType, TabularLimits? limits = null) => mediaType switch
    {
        CsvMediaType => ReadCsv(content, limits ?? TabularLimits.Default),
        XlsxMediaType => ReadXlsx(content, limits ?? TabularLimits.Default),
        _ => (null, $"Send the file as {CsvMediaType} (UTF-8, header row) or {XlsxMediaType}, not {mediaType}."),
    };

    private static (TabularFile?, string?) ReadCsv(byte[] content, TabularLimits limits)
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
        if (records.Count - 1 > limits.MaxRows) return (null, TooManyRows(limits));
        var header = records[0].Fields.Select(h => h.Trim()).ToList();
        if (header.Count > limits.MaxColumns) return (null, TooManyColumns(header.Count, limits));
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

    private static (TabularFile?, string?) ReadXlsx(byte[] content, TabularLimits limits)
    {
        using var deadline = new CancellationTokenSource(limits.MaxTime);
        try
        {
            if (UnpackedProblem(content, limits, deadline.Token) is { } unpacked) return (null, unpacked);
            using var stream = new MemoryStream(content, writable: false);
            var header = stream.GetColumns(useHeaderRow: true, excelType: ExcelType.XLSX)?.Select(h => h?.Trim() ?? "").ToList() ?? [];
            if (header.Count == 0) return (null, "The spreadsheet is empty; it needs a header row and one row per unit.");
            if (header.Count > limits.MaxColumns) return (null, TooManyColumns(header.Count, limits));
            stream.Position = 0;
            var rows = new List<(int, IReadOnlyDictionary<string, string>)>();
            var row = 1;
            foreach (IDictionary<string, object?> cells in stream.Query(useHeaderRow: true, excelType: ExcelType.XLSX))
            {
                deadline.Token.ThrowIfCancellationRequested();
                if (++row - 1 > limits.MaxRows) return (null, TooManyRows(limits));
                if (cells.Values.All(v => v is null || v.ToString()!.Length == 0)) continue;
                rows.Add((row, cells.ToDictionary(c => c.Key.Trim(), c => Text(c.Value), StringComparer.OrdinalIgnoreCase)));
            }
            return (new TabularFile(header, rows), null);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return (null, $"The spreadsheet took longer than {limits.MaxTime.TotalSeconds:0} seconds to read; send a plain .xlsx of the statistics alone (or CSV).");
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            return (null, "The file is not an XLSX spreadsheet that can be read; save it from a spreadsheet program as .xlsx and send it again.");
        }
    }

    /// <summary>
    /// Inflates every part of the zip into nothing, counting, and stops at the limit: what the spreadsheet reader would
    /// unpack is then known to fit. Null if it fits; else why not.
    /// </summary>
    private static string? UnpackedProblem(byte[] content, TabularLimits limits, CancellationToken deadline)
    {
        using var zip = new ZipArchive(new MemoryStream(content, writable: false), ZipArchiveMode.Read);
        if (zip.Entries.Count > limits.MaxParts) return $"The spreadsheet has {zip.Entries.Count} parts, more than the {limits.MaxParts} a statistics workbook needs; send the statistics sheet alone.";
        var buffer = new byte[81920];
        long total = 0;
        foreach (var entry in zip.Entries)
        {
            using var part = entry.Open();
            int read;
            while ((read = part.Read(buffer)) > 0)
            {
                deadline.ThrowIfCancellationRequested();
                total += read;
                if (total > limits.MaxUnpackedBytes)
                {
                    return $"The spreadsheet unpacks to more than {limits.MaxUnpackedBytes / (1024 * 1024)} MB, far more than a statistics table needs; send the statistics sheet alone, or as CSV.";
                }
            }
        }
        return null;
    }

    private static string TooManyRows(TabularLimits limits) => $"The file has more than {limits.MaxRows} rows; send at most {limits.MaxRows} units per file.";

    private static string TooManyColumns(int count, TabularLimits limits) => $"The header has {count} columns, more than the {limits.MaxColumns} a statistics table may have; remove the extra columns.";

    private static string Text(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        DateTime t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture)!.Trim(),
    };
}
