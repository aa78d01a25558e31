using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Reporting;

/// <summary>A spot-check sample of general reporting units' reports (Art. 23): who was drawn, and the seed that reproduces it.</summary>
public sealed record ReportSample(string Id, int Year, decimal Ratio, long Seed, int ListRevision, int Reported, IReadOnlyList<string> Units, DateTimeOffset DrawnAt, string DrawnBy)
{
    /// <summary>
    /// Draws ⌈ratio × n⌉ of the reported units: each is ranked by SHA-256 of the seed and its USCC and the lowest ranks are
    /// taken, so the same seed, ratio and reports always give the same sample, on any machine and runtime.
    /// </summary>
    public static IReadOnlyList<string> Draw(IEnumerable<string> reported, decimal ratio, long seed)
    {
        var all = reported.Distinct(StringComparer.Ordinal).ToList();
        var take = (int)Math.Ceiling(all.Count * ratio);
        return all.OrderBy(u => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{seed.ToString(CultureInfo.InvariantCulture)}:{u}"))), StringComparer.Ordinal)
            .Take(take).Order(StringComparer.Ordinal).ToList();
    }
}

/// <summary>
/// POST /api/reports/{year}/sample (regulator): draws a reproducible random sample of the general reporting units that
/// reported for the year, for checking (Art. 23), with the given <c>ratio</c> and <c>seed</c> (one is chosen and
/// recorded when none is given). GET /api/reports/{year}/samples/{id}: a sample drawn before.
/// </summary>
public sealed class DrawReportSample : IHttpFunction
{
    public sealed record Request(decimal Ratio, long? Seed = null);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/reports/{year:int}/sample", HandleAsync).WithTags("Reports");
        api.MapGet("/reports/{year:int}/samples/{id}", GetAsync).WithTags("Reports");
    }

    /// <summary>A district bureau sees only its own district's units among those drawn, as it sees only their reports.</summary>
    private static async Task<Results<Ok<ReportSample>, ProblemHttpResult>> GetAsync(
        int year, string id, HttpContext http, StorageClients storage, UnitStore units, CancellationToken cancellationToken)
    {
        var sample = PlatformIds.IsValid(id)
            ? await storage.Table(StorageNames.Tables.ReportSamples).FindDocumentAsync<ReportSample>(DocumentRows.YearKey(year), id, cancellationToken)
            : null;
        if (sample is null) return ProblemHandling.NotFound($"No sample {id} was drawn for {year}.");
        var visible = await VisibleUnits.FilterAsync(http.User, sample.Units, units, cancellationToken);
        return TypedResults.Ok(sample with { Units = sample.Units.Where(visible.Contains).ToList() });
    }

    private static async Task<Results<Created<ReportSample>, ProblemHttpResult>> HandleAsync(
        int year, Request request, HttpContext http, PublishedListStore lists, ReportStore reports, StorageClients storage, AuditLog audit, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        if (request.Ratio is <= 0 or > 1) return ProblemHandling.BadRequest($"ratio {request.Ratio} must be above 0 and at most 1.");
        var revision = await lists.LatestRevisionAsync(year, cancellationToken);
        if (revision is null) return Problems.Unprocessable($"No list for {year} is published; there are no general reporting units to sample.");
        var general = (await lists.EntriesAsync(year, revision.Revision, cancellationToken)).Where(e => e.Category == Categories.Reporting).ToList();
        var reported = new List<string>();
        foreach (var unit in general)
        {
            if (await reports.LatestVersionAsync(unit.Uscc, year, cancellationToken) > 0) reported.Add(unit.Uscc);
        }
        var seed = request.Seed ?? RandomNumberGenerator.GetInt32(int.MaxValue);
        var actor = Actor.From(http.User);
        var sample = new ReportSample(Guid.NewGuid().ToString("N"), year, request.Ratio, seed, revision.Revision, reported.Count,
            ReportSample.Draw(reported, request.Ratio, seed), clock.GetUtcNow(), actor.Id);
        await storage.Table(StorageNames.Tables.ReportSamples).AddEntityAsync(DocumentRows.Entity(DocumentRows.YearKey(year), sample.Id, sample), cancellationToken);
        await audit.RecordAsync(actor, "reports.sampled", $"reports/{year}", null, sample, cancellationToken);
        return TypedResults.Created($"/api/reports/{year}/samples/{sample.Id}", sample);
    }
}
