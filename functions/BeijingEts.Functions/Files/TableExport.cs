using MiniExcelLibs;

namespace BeijingEts.Functions.Files;

/// <summary>A table a caller can download as CSV or XLSX: one header row, then one row per record.</summary>
public static class TableExport
{
    public const string CsvMediaType = "text/csv; charset=utf-8";
    public const string XlsxMediaType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    /// <summary>Whether <paramref name="format"/> is one a table is offered in (json, csv, xlsx, or none for json).</summary>
    public static bool IsOffered(string? format) => format is null or "json" or "csv" or "xlsx";

    public static ProblemHttpResult NotOffered(string? format) =>
        Errors.ProblemHandling.BadRequest($"format '{format}' is not offered; ask for json, csv or xlsx.");

    /// <summary>The rows as a CSV or XLSX file download (format "csv" or "xlsx").</summary>
    public static IResult File(string format, string fileName, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<object?>> rows, string sheetName)
    {
        if (format == "csv")
        {
            var text = rows.Select(r => r.Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)));
            return Results.File(Csv.Write(columns, text), CsvMediaType, fileName + ".csv");
        }
        using var buffer = new MemoryStream();
        var sheet = rows.Select(r => columns.Select((c, i) => (c, r[i] ?? "")).ToDictionary(p => p.c, p => p.Item2)).ToList();
        if (sheet.Count == 0) sheet.Add(columns.ToDictionary(c => c, _ => (object)""));
        buffer.SaveAs(sheet, sheetName: sheetName, excelType: ExcelType.XLSX);
        return Results.File(buffer.ToArray(), XlsxMediaType, fileName + ".xlsx");
    }
}
