using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Audit;

/// <summary>
/// GET /api/audit?subject=calendar/2027&amp;limit=100 (regulator): a subject's history, newest first; or
/// GET /api/audit?actor=ID: what one actor did (its stable id as the rows record it: Entra oid, else sub).
/// </summary>
public sealed class GetAuditTrail : IHttpFunction
{
    private const int MaxKeyLength = 500; // escaped, as the table keys are: within a key's 1 KiB

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/audit", HandleAsync).WithTags("Audit");

    private static async Task<Results<Ok<AuditTrail>, ProblemHttpResult>> HandleAsync(string? subject, string? actor, int? limit, AuditLog audit, CancellationToken cancellationToken)
    {
        var bySubject = !string.IsNullOrWhiteSpace(subject);
        var byActor = !string.IsNullOrWhiteSpace(actor);
        if (bySubject == byActor)
        {
            return ProblemHandling.BadRequest("Name either the subject whose history you want (?subject=calendar/2027) or the actor whose actions you want (?actor=ID), not both.");
        }
        var key = bySubject ? subject! : actor!;
        if (AuditLog.EncodeKey(key).Length > MaxKeyLength)
        {
            return ProblemHandling.BadRequest($"{(bySubject ? "subject" : "actor")} is too long: no audit row is kept under a key of over {MaxKeyLength} characters URL-escaped.");
        }
        if (limit is < 1 or > 1000)
        {
            return ProblemHandling.BadRequest("limit must be 1 to 1000.");
        }
        var entries = bySubject
            ? await audit.ReadAsync(subject!, limit ?? 100, cancellationToken)
            : await audit.ReadByActorAsync(actor!, limit ?? 100, cancellationToken);
        return TypedResults.Ok(new AuditTrail(bySubject ? subject : null, byActor ? actor : null, entries));
    }

    public sealed record AuditTrail(string? Subject, string? Actor, IReadOnlyList<AuditRecord> Entries);
}
