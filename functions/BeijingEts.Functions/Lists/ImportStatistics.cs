using System.Globalization;
using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Files;
using Microsoft.AspNetCore.Http.Features;

namespace BeijingEts.Functions.Lists;

/// <summary>
/// POST /api/lists/{year}/statistics (regulator): a year's statistics for many units as CSV or XLSX. All or nothing:
/// a file with any bad row is refused with every error by row and column. With name, district and industry columns
/// (and nationalEts), units not yet registered are registered and changed details are updated.
/// </summary>
public sealed class ImportStatistics : IHttpFunction
{
    public const long MaxFileBytes = 32 * 1024 * 1024;

    public sealed record RowError(int Row, string Column, string Message);

    public sealed record Answer(int Year, int Imported, int Registered, int Updated, string ImportId);

    internal static readonly string[] Required = ["uscc", "energyConsumptionTce", "directEmissionsT", "indirectEmissionsT"];
    internal static readonly string[] Registration = ["name", "district", "industry"];
    internal static readonly string[] Optional = ["outsideNationalBoundaryEmissionsT", "nationalEts", .. Registration];

    public static void Map(IEndpointRouteBuilder api) =>
        // No Accepts metadata: routing would answer other media types with a bare 415; the handler says what to send.
        api.MapPost("/lists/{year:int}/statistics", HandleAsync).WithTags("Lists");

    private static async Task<Results<Ok<Answer>, ProblemHttpResult>> HandleAsync(
        int year, HttpContext http, UnitStore units, StatisticsStore statistics, StorageClients storage, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (year > StatisticsRules.CurrentYearInBeijing(now) || year < 2013)
        {
            return ProblemHandling.BadRequest($"Year {year} cannot take statistics; give a year from 2013 to {StatisticsRules.CurrentYearInBeijing(now)}.");
        }
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxFileBytes;
        var mediaType = http.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant() ?? "";
        using var body = new MemoryStream();
        if (http.Request.HasFormContentType)
        {
            // A browser form upload: the first file, typed by its own content type or its extension.
            var form = await http.Request.ReadFormAsync(cancellationToken);
            if (form.Files.Count == 0) return ProblemHandling.BadRequest("The form has no file; attach the CSV or XLSX file.");
            var upload = form.Files[0];
            mediaType = Path.GetExtension(upload.FileName).ToLowerInvariant() switch
            {
                ".csv" => TabularFile.CsvMediaType,
                ".xlsx" => TabularFile.XlsxMediaType,
                _ => upload.ContentType?.Split(';')[0].Trim().ToLowerInvariant() ?? "",
            };
            await upload.CopyToAsync(body, cancellationToken);
        }
        else
        {
            await http.Request.Body.CopyToAsync(body, cancellationToken);
        }
        var (file, fileError) = TabularFile.Read(body.ToArray(), mediaType);
        if (file is null)
        {
            return mediaType is TabularFile.CsvMediaType or TabularFile.XlsxMediaType
                ? ProblemHandling.BadRequest(fileError!)
                : TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type", detail: fileError);
        }
        var headerProblems = CheckHeader(file.Header);
        if (headerProblems.Count > 0) return ProblemHandling.BadRequest("The header row is wrong: " + string.Join(" ", headerProblems));

        var registered = await units.ReadAllAsync(cancellationToken);
        var (rows, errors) = ReadRows(file, registered, year, now);
        if (errors.Count > 0)
        {
            var first = errors[0];
            return ProblemHandling.BadRequest(
                $"The file has {errors.Count} error(s) and nothing was imported; fix them and send it again. First: row {first.Row}, {first.Column}: {first.Message}",
                new Dictionary<string, object?> { ["errors"] = errors });
        }

        var importId = $"{now:yyyyMMddHHmmss}-{Guid.NewGuid():N}"[..24];
        var newUnits = rows.Where(r => r.Unit is not null && !registered.ContainsKey(r.Uscc)).Select(r => r.Unit!).ToList();
        var changedUnits = rows.Where(r => r.Unit is not null && registered.TryGetValue(r.Uscc, out var old) && Differs(old, r.Unit!))
            .Select(r => (Before: registered[r.Uscc], After: registered[r.Uscc] with { Name = r.Unit!.Name, District = r.Unit.District, Industry = r.Unit.Industry, NationalEts = r.Unit.NationalEts, UpdatedAt = now }))
            .ToList();
        var fileName = $"{year}/{importId}.{(mediaType == TabularFile.CsvMediaType ? "csv" : "xlsx")}";
        await Task.WhenAll(
            storage.Container(StorageNames.Containers.Imports).GetBlobClient(fileName).UploadAsync(BinaryData.FromBytes(body.ToArray()), overwrite: false, cancellationToken),
            units.UpsertManyAsync(newUnits.Concat(changedUnits.Select(c => c.After)), cancellationToken),
            statistics.PutManyAsync(year, rows.Select(r => (r.Uscc, r.Statistics)), "import:" + importId, cancellationToken));
        // The imported file, kept unchanged in the imports container, is the full "after" image of the figures.
        await audit.RecordAsync(Actor.From(http.User), "statistics.imported", $"lists/{year}/statistics", null, new
        {
            importId,
            file = fileName,
            rows = rows.Count,
            registered = newUnits.Select(u => u.Uscc), // their details are the file's rows
            updated = changedUnits.Select(c => new { before = UnitView.From(c.Before), after = UnitView.From(c.After) }),
        }, cancellationToken);
        return TypedResults.Ok(new Answer(year, rows.Count, newUnits.Count, changedUnits.Count, importId));
    }

    private static bool Differs(UnitRecord old, UnitRecord row) =>
        old.Name != row.Name || old.District != row.District || old.Industry != row.Industry || old.NationalEts != row.NationalEts;

    private static List<string> CheckHeader(IReadOnlyList<string> header)
    {
        var problems = new List<string>();
        var known = Required.Concat(Optional).ToList();
        foreach (var column in header)
        {
            if (!known.Contains(column, StringComparer.OrdinalIgnoreCase)) problems.Add($"'{column}' is not a column this import knows.");
        }
        foreach (var duplicate in header.GroupBy(h => h, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1)) problems.Add($"'{duplicate.Key}' appears twice.");
        var missing = Required.Where(r => !header.Contains(r, StringComparer.OrdinalIgnoreCase)).ToList();
        if (missing.Count > 0) problems.Add($"Missing column(s) {string.Join(", ", missing)}.");
        var registration = Registration.Count(r => header.Contains(r, StringComparer.OrdinalIgnoreCase));
        if (registration is > 0 and < 3) problems.Add("To register units, give all of name, district and industry.");
        if (problems.Count > 0) problems.Add($"The columns are {string.Join(", ", Required)}, and optionally {string.Join(", ", Optional)}.");
        return problems;
    }

    private sealed record ParsedRow(int Row, string Uscc, UnitStatistics Statistics, UnitRecord? Unit);

    private static (List<ParsedRow> Rows, List<RowError> Errors) ReadRows(TabularFile file, IReadOnlyDictionary<string, UnitRecord> registered, int year, DateTimeOffset now)
    {
        var rows = new List<ParsedRow>();
        var errors = new List<RowError>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var registers = file.Header.Contains("name", StringComparer.OrdinalIgnoreCase);
        foreach (var (row, cells) in file.Rows)
        {
            void Error(string column, string message) => errors.Add(new RowError(row, column, message));
            string Cell(string column) => cells.TryGetValue(column, out var value) ? value : "";

            if (!Uscc.TryParse(Cell("uscc"), out var uscc, out var usccError))
            {
                Error("uscc", usccError);
                continue;
            }
            if (seen.TryGetValue(uscc.Value, out var earlier))
            {
                Error("uscc", $"{uscc} is also on row {earlier}; give each unit one row.");
                continue;
            }
            seen[uscc.Value] = row;

            var energy = ReadDecimal(Cell("energyConsumptionTce"), "energyConsumptionTce", Error);
            var direct = ReadWhole(Cell("directEmissionsT"), "directEmissionsT", required: true, Error);
            var indirect = ReadWhole(Cell("indirectEmissionsT"), "indirectEmissionsT", required: true, Error);
            var outside = ReadWhole(Cell("outsideNationalBoundaryEmissionsT"), "outsideNationalBoundaryEmissionsT", required: false, Error);

            UnitRecord? unit = null;
            bool nationalEts;
            if (registers)
            {
                nationalEts = Cell("nationalEts").ToLowerInvariant() switch
                {
                    "" or "false" or "0" or "no" => false,
                    "true" or "1" or "yes" => true,
                    var other => ErrorValue(() => Error("nationalEts", $"'{other}' is not true or false."), false),
                };
                var request = new PutUnit.Request(Cell("name"), Cell("district"), Cell("industry"), nationalEts);
                var problems = PutUnit.Validate(request);
                foreach (var problem in problems) Error(problem.Split(' ')[0], problem);
                if (problems.Count == 0)
                {
                    unit = registered.TryGetValue(uscc.Value, out var existing)
                        ? existing with { Name = request.Name.Trim(), District = request.District, Industry = request.Industry, NationalEts = nationalEts }
                        : new UnitRecord(uscc.Value, request.Name.Trim(), request.District, request.Industry, nationalEts, now, now);
                }
            }
            else if (registered.TryGetValue(uscc.Value, out var existing))
            {
                nationalEts = existing.NationalEts;
            }
            else
            {
                Error("uscc", $"{uscc} is not registered; register it with PUT /api/units/{uscc}, or add name, district and industry columns.");
                continue;
            }
            // Figures that did not parse are already reported; zero stands in for them so the others are still checked.
            foreach (var problem in StatisticsRules.Validate(year, nationalEts, energy ?? 0, direct ?? 0, indirect ?? 0, outside, now))
            {
                Error(problem.Split(' ')[0].Trim('.'), problem);
            }
            if (energy is null || direct is null || indirect is null) continue;
            rows.Add(new ParsedRow(row, uscc.Value, new UnitStatistics(energy.Value, direct.Value, indirect.Value, outside), unit));
        }
        errors.Sort((a, b) => a.Row.CompareTo(b.Row));
        return (rows, errors);
    }

    private static T ErrorValue<T>(Action report, T value)
    {
        report();
        return value;
    }

    private static decimal? ReadDecimal(string text, string column, Action<string, string> error)
    {
        if (text.Length == 0)
        {
            error(column, "is empty; give the figure.");
            return null;
        }
        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            error(column, $"'{text}' is not a number (write it like 2000.5, without thousands separators).");
            return null;
        }
        return value;
    }

    private static long? ReadWhole(string text, string column, bool required, Action<string, string> error)
    {
        if (text.Length == 0)
        {
            if (required) error(column, "is empty; give the figure in whole tonnes.");
            return null;
        }
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            error(column, $"'{text}' is not a whole number of tonnes.");
            return null;
        }
        return value;
    }
}
