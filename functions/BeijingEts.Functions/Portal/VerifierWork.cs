using System.Security.Claims;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Reporting;

namespace BeijingEts.Functions.Portal;

/// <summary>
/// GET /api/verifiers/{uscc}/work (the body itself, or the regulator): each engagement of the body, newest first, with
/// how processing of its uploads ended, including why they were rejected, which the body needs to send them again and
/// which its engagement list does not say. Only what concerns the body's own engagements; superseded ones say so.
/// </summary>
public sealed class VerifierWork : IHttpFunction
{
    public sealed record Item(string EngagementId, string Unit, int Year, int ReportVersion, string LeadVerifier, DateTimeOffset EngagedAt, string Status,
        string? Reason, long? VerifiedEmissionsT, bool Flagged, IReadOnlyList<string> Received, DateTimeOffset? UpdatedAt);

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/verifiers/{uscc}/work", ListAsync).WithTags("Portal");

    private static async Task<Results<Ok<IReadOnlyList<Item>>, ProblemHttpResult>> ListAsync(
        string uscc, HttpContext http, VerificationStore verifications, CancellationToken cancellationToken)
    {
        if (!UnitInput.TryParse(uscc, out var code, out var problem)) return problem!;
        if (!http.User.IsInRole(Roles.Regulator) && !string.Equals(http.User.FindFirstValue(EtsClaims.VerifierId), code, StringComparison.OrdinalIgnoreCase))
        {
            return ProblemHandling.NotFound($"No verification body {code} is known to this token.");
        }
        var items = new List<Item>();
        foreach (var e in await verifications.EngagementsAsync(code, cancellationToken))
        {
            var record = await verifications.FindAsync(e.Unit, e.Year, cancellationToken);
            var current = record is not null && record.Engagement == e.Engagement;
            var status = current ? JsonNamingPolicy.KebabCaseLower.ConvertName(record!.Status.ToString()) : "superseded";
            items.Add(new Item(e.Engagement, e.Unit, e.Year, e.ReportVersion, e.LeadVerifier, e.EngagedAt, status,
                current ? record!.Reason : null, current ? record!.VerifiedEmissionsT?.Value : null, current && record!.Flagged,
                current ? record!.Documents.Select(d => JsonNamingPolicy.KebabCaseLower.ConvertName(d.Kind.ToString())).ToList() : [],
                current ? record!.UpdatedAt : null));
        }
        return TypedResults.Ok<IReadOnlyList<Item>>(items);
    }
}
