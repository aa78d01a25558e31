using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;

namespace BeijingEts.Functions.Notifications;

/// <summary>
/// The in-app inbox: GET /api/notifications (the caller's own notices, newest first; <c>?unread=true</c> for the unread),
/// POST /api/notifications/{id}/read (the first reading is recorded: for an allocation result it starts the Art. 15 window
/// unless the email came first), GET /api/notifications/dead-letters (the regulator: emails that never went).
/// </summary>
public sealed class NotificationEndpoints : IHttpFunction
{
    public const int MaxListed = 500;

    public sealed record Inbox(IReadOnlyList<Notice> Notifications, int Unread, int Total);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/notifications", ListAsync).WithTags("Notices");
        api.MapPost("/notifications/{id}/read", ReadAsync).WithTags("Notices");
        api.MapGet("/notifications/dead-letters", DeadLettersAsync).WithTags("Notices");
    }

    private static async Task<Results<Ok<Inbox>, ProblemHttpResult>> ListAsync(HttpContext http, NoticeStore notices, bool? unread, CancellationToken cancellationToken)
    {
        if (Party.Of(http.User) is not { } party) return Problems.Forbidden("The token names no party to act for.");
        var all = await notices.InboxAsync(party, cancellationToken);
        var shown = all.Where(n => unread != true || n.ReadAt is null).Take(MaxListed).ToList();
        return TypedResults.Ok(new Inbox(shown, all.Count(n => n.ReadAt is null), all.Count));
    }

    private static async Task<Results<Ok<Notice>, ProblemHttpResult>> ReadAsync(
        string id, HttpContext http, NoticeStore notices, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (Party.Of(http.User) is not { } party) return Problems.Forbidden("The token names no party to act for.");
        while (true)
        {
            // Another party's notice is not in the caller's partition: it answers as if it did not exist.
            if (await notices.FindAsync(party, id, cancellationToken) is not var (notice, etag)) return ProblemHandling.NotFound($"You have no notice {id}.");
            if (notice.ReadAt is not null)
            {
                AuditLog.MarkReplayed(http); // read before: nothing changes
                return TypedResults.Ok(notice);
            }
            var read = notice with { ReadAt = clock.GetUtcNow() };
            if (!await notices.TryReplaceAsync(read, etag, cancellationToken)) continue; // delivered meanwhile: read again
            await audit.RecordAsync(Actor.From(http.User), "notice.read", $"notifications/{party.Key}/{id}", null, new { read.Kind, read.ReadAt }, cancellationToken);
            return TypedResults.Ok(read);
        }
    }

    private static async Task<Ok<IReadOnlyList<Notice>>> DeadLettersAsync(NoticeStore notices, CancellationToken cancellationToken) =>
        TypedResults.Ok(await notices.DeadLettersAsync(cancellationToken));
}
