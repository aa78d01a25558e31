using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Audit;

/// <summary>GET /api/audit?subject=calendar/2027&amp;limit=100 (regulator): a subject's history, newest first.</summary>
public sealed class GetAuditTrail : IHttpFunction
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/audit", HandleAsync).WithTags("Audit");

    private static async Task<Results<Ok<AuditTrail>, ProblemHttpResult>> HandleAsync(string? subject, int? limit, AuditLog audit, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(subject))
        {
            return ProblemHandling.BadRequest("Name the subject whose history you want, e.g. ?subject=calendar/2027.");
        }
        if (limit is < 1 or > 1000)
        {
            return ProblemHandling.BadRequest("limit must be 1 to 1000.");
        }
        return TypedResults.Ok(new AuditTrail(subject, await audit.ReadAsync(subject, limit ?? 100, cancellationToken)));
    }

    public sealed record AuditTrail(string Subject, IReadOnlyList<AuditRecord> Entries);
}
