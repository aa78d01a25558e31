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
        api.MapPost("/notifications/dead-letters/retry", RetryAsync).WithTags("Notices");
    }

    public sealed record RetryRequest(string? Party = null);

    public sealed record Retried(int Notices);

    /// <summary>The regulator sends the dead letters again (all, or one party's), once the relay or the addresses are fixed.</summary>
    private static async Task<Results<Ok<Retried>, ProblemHttpResult>> RetryAsync(RetryRequest? request, HttpContext http, NoticeStore notices, NoticeOutbox outbox,
        NoticeSettings settings, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (settings.Smtp is null) return Problems.Unprocessable("No email relay is configured (Ets:Notices:Smtp:Host); the notices are in their parties' inboxes.");
        if (request?.Party is { } key && Party.Parse(key) is null) return ProblemHandling.BadRequest($"party '{key}' is not a party: write role:id (unit:<USCC>) or the role alone.");
        var again = new List<Notice>();
        foreach (var letter in (await notices.DeadLettersAsync(cancellationToken)).Where(l => request?.Party is null || l.Party == request.Party))
        {
            if (await notices.FindAsync(Party.Parse(letter.Party)!, letter.Id, cancellationToken) is var (notice, etag) && notice.Delivery == "dead-lettered"
                && await notices.TryReplaceAsync(notice with { Delivery = "pending", Attempts = 0, NextAttemptAt = null }, etag, cancellationToken))
            {
                again.Add(notice);
            }
            await notices.DeleteDeadLetterAsync(letter, cancellationToken);
        }
        if (again.Count > 0)
        {
            await notices.MarkOwedAsync(again.Select(n => (n.Party, n.Id)), clock.GetUtcNow(), cancellationToken);
            await outbox.EnqueueAsync(again, TimeSpan.Zero, cancellationToken);
        }
        await audit.RecordAsync(Actor.From(http.User), "notices.retried", "notifications/dead-letters", null, new { request?.Party, Notices = again.Count }, cancellationToken);
        return TypedResults.Ok(new Retried(again.Count));
    }

    private static async Task<Results<Ok<Inbox>, ProblemHttpResult>> ListAsync(HttpContext http, NoticeStore notices, bool? unread, CancellationToken cancellationToken)
    {
        if (Party.Of(http.User) is not { } party) return Problems.Forbidden("The token names no party to act for.");
        var all = await notices.InboxAsync(party, cancellationToken);
        if (party.IsShared)
        {
            // Each person's own reading: one regulator reading a notice leaves it unread for the others.
            var reads = await notices.ReadByAsync(party, Actor.From(http.User).Id, cancellationToken);
            all = all.Select(n => n with { ReadAt = reads.TryGetValue(n.Id, out var at) ? at : null }).ToList();
        }
        var shown = all.Where(n => unread != true || n.ReadAt is null).Take(MaxListed).ToList();
        return TypedResults.Ok(new Inbox(shown, all.Count(n => n.ReadAt is null), all.Count));
    }

    private static async Task<Results<Ok<Notice>, ProblemHttpResult>> ReadAsync(
        string id, HttpContext http, NoticeStore notices, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (Party.Of(http.User) is not { } party) return Problems.Forbidden("The token names no party to act for.");
        if (party.IsShared) return await ReadSharedAsync(party, id, http, notices, audit, clock, cancellationToken);
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

    /// <summary>
    /// A shared inbox: the reading is the caller's own (answered as its readAt). The notice's own ReadAt keeps the first
    /// reading by anyone, as for every party.
    /// </summary>
    private static async Task<Results<Ok<Notice>, ProblemHttpResult>> ReadSharedAsync(
        Party party, string id, HttpContext http, NoticeStore notices, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await notices.FindAsync(party, id, cancellationToken) is not var (notice, etag)) return ProblemHandling.NotFound($"You have no notice {id}.");
        var actor = Actor.From(http.User);
        var (readAt, first) = await notices.MarkReadByAsync(party, actor.Id, id, clock.GetUtcNow(), cancellationToken);
        // The notice's own first reading, also when this person's was recorded by a request that stopped before it.
        while (notice.ReadAt is null && !await notices.TryReplaceAsync(notice with { ReadAt = readAt }, etag, cancellationToken))
        {
            if (await notices.FindAsync(party, id, cancellationToken) is not var (again, againTag)) break;
            (notice, etag) = (again, againTag);
        }
        if (!first)
        {
            AuditLog.MarkReplayed(http); // read before by this person: audited then
            return TypedResults.Ok(notice with { ReadAt = readAt });
        }
        await audit.RecordAsync(actor, "notice.read", $"notifications/{party.Key}/{id}", null, new { notice.Kind, ReadAt = readAt }, cancellationToken);
        return TypedResults.Ok(notice with { ReadAt = readAt });
    }

    private static async Task<Ok<IReadOnlyList<Notice>>> DeadLettersAsync(NoticeStore notices, CancellationToken cancellationToken) =>
        TypedResults.Ok(await notices.DeadLettersAsync(cancellationToken));
}
