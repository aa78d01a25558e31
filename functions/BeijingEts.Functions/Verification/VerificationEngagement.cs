using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Reporting;
using BeijingEts.Functions.Uploads;

namespace BeijingEts.Functions.Verification;

/// <summary>Size limits of verification uploads, and how far a verified total may stray from the reported one before it is flagged.</summary>
public sealed record VerificationSettings(long MaxReportBytes, long MaxStatementBytes, decimal FlagThresholdPercent)
{
    /// <summary>What reading a verification report may cost.</summary>
    public PdfLimits PdfLimits { get; init; } = PdfLimits.Default;

    public static VerificationSettings From(IConfiguration configuration)
    {
        var settings = new VerificationSettings(
            configuration.GetValue("Ets:Verification:MaxReportBytes", 20L * 1024 * 1024),
            configuration.GetValue("Ets:Verification:MaxStatementBytes", 256L * 1024),
            configuration.GetValue("Ets:Verification:FlagThresholdPercent", 5m));
        return settings is { MaxReportBytes: > 0, MaxStatementBytes: > 0, FlagThresholdPercent: >= 0 }
            ? settings
            : throw new InvalidOperationException("Ets:Verification:MaxReportBytes and MaxStatementBytes must be positive, FlagThresholdPercent not negative.");
    }
}

/// <summary>Where an engagement's two documents go in the uploads container: verification/{uscc}/{year}/{engagement}/report.pdf and statement.json.</summary>
public static class VerificationPaths
{
    public const string Root = "verification/";

    public static string For(string uscc, int year, string engagement, VerificationDocumentKind kind) =>
        $"{Root}{uscc}/{DocumentRows.YearKey(year)}/{engagement}/{FileName(kind)}";

    public static bool TryParse(string blobName, out string uscc, out int year, out string engagement, out VerificationDocumentKind kind)
    {
        (uscc, year, engagement, kind) = ("", 0, "", default);
        var parts = blobName.Split('/');
        if (parts.Length != 5 || parts[0] + "/" != Root || parts[2].Length != 4 || !int.TryParse(parts[2], System.Globalization.NumberStyles.None, null, out year)) return false;
        (uscc, engagement) = (parts[1], parts[3]);
        switch (parts[4])
        {
            case "report.pdf": kind = VerificationDocumentKind.Report; return true;
            case "statement.json": kind = VerificationDocumentKind.Statement; return true;
            default: return false;
        }
    }

    private static string FileName(VerificationDocumentKind kind) => kind == VerificationDocumentKind.Report ? "report.pdf" : "statement.json";
}

/// <summary>
/// POST /api/units/{uscc}/reports/{year}/verification (the key unit, or the regulator for it): engages an eligible
/// verification body (Art. 24) for the unit's latest report version and answers 201 with the engagement. It carries no
/// upload link: only the body obtains those, with its own token (POST /api/verifiers/{body}/engagements/{id}/links), so
/// the unit can never write its own verification (Art. 21). A body that is not eligible is refused (422) with every
/// failed condition. Engaging again starts a new engagement: the old one's uploads are then ignored.
/// GET: where the verification stands, with short-lived read-only links to the documents (the unit, its district, the regulator).
/// </summary>
public sealed class VerificationEndpoints : IHttpFunction
{
    public sealed record Request(string Verifier, string LeadVerifier);

    public sealed record Engagement(string EngagementId, string Verifier, VerificationStatus Status, string Unit, int Year, string LeadVerifier, int ReportVersion,
        DateTimeOffset EngagedAt, long MaxReportBytes, long MaxStatementBytes);

    public sealed record DocumentView(VerificationDocumentKind Kind, string Sha256, long SizeBytes, DateTimeOffset ReceivedAt, DateOnly RetainUntil, Uri DownloadUrl, DateTimeOffset DownloadUrlExpiresAt);

    public sealed record View(
        string Unit, int Year, VerificationStatus Status, string? Reason, long? VerifiedEmissionsT, bool Flagged, IReadOnlyList<DocumentView> Documents,
        string Engagement, string Verifier, string LeadVerifier, int ReportVersion, long ReportedEmissionsT, VerifiedFigures? Statement,
        DateTimeOffset IssuedAt, DateTimeOffset? LinksExpireAt, DateTimeOffset UpdatedAt);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/units/{uscc}/reports/{year:int}/verification", EngageAsync).WithTags("Verification");
        api.MapGet("/units/{uscc}/reports/{year:int}/verification", GetAsync).WithTags("Verification");
    }

    private static async Task<Results<Created<Engagement>, ProblemHttpResult>> EngageAsync(
        string uscc, int year, Request request, HttpContext http, UnitStore units, ReportingUnits reporting, ReportStore reports,
        VerifierEligibilityService eligibility, VerificationStore verifications, VerificationSettings settings,
        AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (unit, problem) = await UnitInput.FindVisibleAsync(uscc, http.User, units, "A unit engages its own verification body.", cancellationToken);
        if (unit is null) return problem!;
        if (!UnitInput.TryParse(request.Verifier, out var verifier, out var badVerifier)) return badVerifier!;
        if (string.IsNullOrWhiteSpace(request.LeadVerifier)) return ProblemHandling.BadRequest("leadVerifier is missing: give the staff id of the lead verifier, as the body's record lists it.");
        var entry = await reporting.EntryAsync(unit.Uscc, year, cancellationToken);
        if (entry is null || entry.Category != Categories.Key)
        {
            return Problems.Unprocessable($"Unit {unit.Uscc} is not a key unit on the published {year} list; only key units' reports are verified by a third party (Art. 21).");
        }
        var report = await reports.FindLatestAsync(unit.Uscc, year, cancellationToken);
        if (report is null) return Problems.Unprocessable($"Unit {unit.Uscc} has not reported for {year}; submit the annual report before engaging a verification body.");
        var current = await verifications.FindAsync(unit.Uscc, year, cancellationToken);
        if (current is { Status: VerificationStatus.Accepted } && current.ReportVersion == report.Version)
        {
            return Problems.Conflict($"Version {report.Version} of unit {unit.Uscc}'s {year} report is already verified (engagement {current.Engagement}); a new verification needs a new report version.");
        }
        var answer = await eligibility.AnswerAsync(verifier, unit, year, request.LeadVerifier.Trim(), cancellationToken);
        if (answer is null) return Problems.Unprocessable($"No verification body {verifier} is on record; the regulator records it with PUT /api/verifiers/{verifier}.");
        if (!answer.Eligible)
        {
            return Problems.Unprocessable($"Verification body {verifier} may not verify unit {unit.Uscc}: {string.Join(" ", answer.Failures)}",
                new Dictionary<string, object?> { ["failures"] = answer.Failures });
        }

        var actor = Actor.From(http.User);
        var now = clock.GetUtcNow();
        var engaged = new VerifierEngagement(verifier, Guid.NewGuid().ToString("N"), unit.Uscc, year, report.Version, request.LeadVerifier.Trim(), now);
        var record = new VerificationRecord(unit.Uscc, year, engaged.Engagement, verifier, engaged.LeadVerifier, report.Version, report.TotalEmissionsT,
            VerificationStatus.AwaitingUpload, null, null, false, null, [], now, null, actor.Id, now);
        // The body's index first, so every engagement a unit-year names is one its body can find.
        await verifications.AddEngagementAsync(engaged, cancellationToken);
        await verifications.PutAsync(record, cancellationToken);
        await audit.RecordAsync(actor, "verification.engaged", $"units/{unit.Uscc}/reports/{year}", current, record, cancellationToken);
        return TypedResults.Created($"/api/units/{unit.Uscc}/reports/{year}/verification", new Engagement(engaged.Engagement, verifier, record.Status, unit.Uscc, year,
            engaged.LeadVerifier, report.Version, now, settings.MaxReportBytes, settings.MaxStatementBytes));
    }

    private static Task<Results<Ok<View>, ProblemHttpResult>> GetAsync(
        string uscc, int year, HttpContext http, UnitStore units, VerificationStore verifications, UploadLinks links, CancellationToken cancellationToken) =>
        UnitInput.ReadVisibleAsync(uscc, http.User, units, "verification",
            async code => await verifications.FindAsync(code, year, cancellationToken) is { } record ? await ViewAsync(record, links, cancellationToken) : null,
            code => $"No verification body has been engaged for unit {code}'s {year} report; the unit does so with POST /api/units/{code}/reports/{year}/verification.",
            cancellationToken);

    private static async Task<View> ViewAsync(VerificationRecord r, UploadLinks links, CancellationToken cancellationToken)
    {
        var documents = new List<DocumentView>();
        foreach (var d in r.Documents)
        {
            var link = await links.ForDownloadAsync(d.BlobName, cancellationToken);
            documents.Add(new DocumentView(d.Kind, d.Sha256, d.SizeBytes, d.ReceivedAt, d.RetainUntil, link.Url, link.ExpiresAt));
        }
        return new View(r.Uscc, r.Year, r.Status, r.Reason, r.VerifiedEmissionsT?.Value, r.Flagged, documents, r.Engagement, r.Verifier, r.LeadVerifier,
            r.ReportVersion, r.ReportedEmissionsT.Value, r.Statement, r.IssuedAt, r.LinksExpireAt, r.UpdatedAt);
    }
}
