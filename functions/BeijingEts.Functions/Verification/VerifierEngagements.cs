using System.Security.Claims;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Reporting;
using BeijingEts.Functions.Uploads;

namespace BeijingEts.Functions.Verification;

/// <summary>Where an engagement stands as its body sees it: superseded once the unit has engaged again.</summary>
public enum EngagementStatus
{
    AwaitingUpload,
    Accepted,
    Rejected,
    Superseded,
}

/// <summary>
/// The verification body's own side of its engagements (Art. 21, 25): the body acts for itself, with a verifier token
/// whose verifier id is the body's USCC. GET /api/verifiers/{uscc}/engagements (the body, or the regulator): its
/// engagements, newest first. POST /api/verifiers/{uscc}/engagements/{engagementId}/links (the body alone): signed
/// create-only links for the report (PDF) and the statement (JSON) of a current engagement still awaiting them. Another
/// body is answered 404, as if the engagement did not exist; every other role 403.
/// </summary>
public sealed class VerifierEngagementEndpoints : IHttpFunction
{
    public sealed record EngagementView(string EngagementId, string Unit, int Year, int ReportVersion, string LeadVerifier, DateTimeOffset EngagedAt, EngagementStatus Status);

    public sealed record Links(string EngagementId, string Unit, int Year, int ReportVersion, Uri ReportUploadUrl, Uri StatementUploadUrl, DateTimeOffset ExpiresOn,
        long MaxReportBytes, long MaxStatementBytes);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/verifiers/{uscc}/engagements", ListAsync).WithTags("Verification");
        api.MapPost("/verifiers/{uscc}/engagements/{engagementId}/links", LinksAsync).WithTags("Verification");
    }

    private static async Task<Results<Ok<IReadOnlyList<EngagementView>>, ProblemHttpResult>> ListAsync(
        string uscc, HttpContext http, VerificationStore verifications, CancellationToken cancellationToken)
    {
        if (!TryBody(uscc, http.User, out var code, out var problem)) return problem!;
        var views = new List<EngagementView>();
        foreach (var e in await verifications.EngagementsAsync(code, cancellationToken))
        {
            var record = await verifications.FindAsync(e.Unit, e.Year, cancellationToken);
            views.Add(new EngagementView(e.Engagement, e.Unit, e.Year, e.ReportVersion, e.LeadVerifier, e.EngagedAt, StatusOf(e, record)));
        }
        return TypedResults.Ok<IReadOnlyList<EngagementView>>(views);
    }

    private static async Task<Results<Ok<Links>, ProblemHttpResult>> LinksAsync(
        string uscc, string engagementId, HttpContext http, VerificationStore verifications, UploadLinks links, VerificationSettings settings,
        AuditLog audit, CancellationToken cancellationToken)
    {
        if (!TryBody(uscc, http.User, out var code, out var problem)) return problem!;
        var engagement = IsEngagementId(engagementId) ? await verifications.FindEngagementAsync(code, engagementId, cancellationToken) : null;
        if (engagement is null) return ProblemHandling.NotFound($"Verification body {code} has no engagement {engagementId}; its engagements are listed at GET /api/verifiers/{code}/engagements.");
        var status = StatusOf(engagement, await verifications.FindAsync(engagement.Unit, engagement.Year, cancellationToken));
        if (status != EngagementStatus.AwaitingUpload)
        {
            return Problems.Conflict($"Engagement {engagementId} (unit {engagement.Unit}, {engagement.Year}) is {Describe(status)}; links are issued only while an engagement awaits its documents.");
        }

        var report = await links.ForUploadAsync(VerificationPaths.For(engagement.Unit, engagement.Year, engagementId, VerificationDocumentKind.Report), cancellationToken);
        var statement = await links.ForUploadAsync(VerificationPaths.For(engagement.Unit, engagement.Year, engagementId, VerificationDocumentKind.Statement), cancellationToken);
        VerificationRecord? before = null;
        var after = await verifications.UpdateAsync(engagement.Unit, engagement.Year, current =>
        {
            if (current.Engagement != engagementId || current.Status != VerificationStatus.AwaitingUpload) return null;
            before = current;
            return current with { LinksExpireAt = report.ExpiresAt };
        }, cancellationToken);
        if (after is null) return Problems.Conflict($"Engagement {engagementId} changed while its links were signed (the unit engaged again, or its documents were processed); list the engagements again.");
        await audit.RecordAsync(Actor.From(http.User), "verification.links-issued", $"units/{engagement.Unit}/reports/{engagement.Year}", before, after, cancellationToken);
        return TypedResults.Ok(new Links(engagementId, engagement.Unit, engagement.Year, engagement.ReportVersion, report.Url, statement.Url, report.ExpiresAt,
            settings.MaxReportBytes, settings.MaxStatementBytes));
    }

    /// <summary>The body a route names, if the caller is that body or the regulator; another body gets 404, as if the body were not there.</summary>
    private static bool TryBody(string uscc, ClaimsPrincipal user, out string code, out ProblemHttpResult? problem)
    {
        if (!UnitInput.TryParse(uscc, out code, out problem)) return false;
        if (user.IsInRole(Roles.Regulator) || string.Equals(user.FindFirstValue(EtsClaims.VerifierId), code, StringComparison.OrdinalIgnoreCase)) return true;
        problem = ProblemHandling.NotFound($"No verification body {code} is known to this token; a body reads its own engagements with a verifier token for its own USCC.");
        return false;
    }

    private static bool IsEngagementId(string text) => PlatformIds.IsValid(text);

    private static EngagementStatus StatusOf(VerifierEngagement engagement, VerificationRecord? record) =>
        record is null || record.Engagement != engagement.Engagement
            ? EngagementStatus.Superseded
            : record.Status switch
            {
                VerificationStatus.Accepted => EngagementStatus.Accepted,
                VerificationStatus.Rejected => EngagementStatus.Rejected,
                _ => EngagementStatus.AwaitingUpload,
            };

    private static string Describe(EngagementStatus status) => status switch
    {
        EngagementStatus.Superseded => "superseded: the unit has engaged again since",
        EngagementStatus.Accepted => "already accepted",
        _ => "rejected (the reason is on the unit's verification); the unit engages again for a new attempt",
    };
}
