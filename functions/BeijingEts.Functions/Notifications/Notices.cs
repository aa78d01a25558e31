using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace BeijingEts.Functions.Notifications;

/// <summary>A notice's words: Chinese first, the English beneath it in the email.</summary>
public sealed record NoticeText(string SubjectZh, string BodyZh, string SubjectEn, string BodyEn);

/// <summary>
/// One notice to one party about one event. The id is fixed by the event (<c>allocation-pre-2025</c>,
/// <c>check-{id}-signed-off</c>), so a step that runs again writes the same notice, never a second one.
/// </summary>
/// <remarks>
/// <c>Delivery</c>: <c>pending</c> (an email is owed), <c>sent</c>, <c>retrying</c> (the relay refused; the queue tries
/// again), <c>dead-lettered</c> (it never went; the regulator sees it in the dead letters), <c>no-contacts</c> (the party
/// registered no address), <c>in-app</c> (no email relay is configured). Whatever the delivery, the notice is in the inbox.
/// </remarks>
public sealed record Notice(
    string Id, string Party, string Kind, string SubjectZh, string BodyZh, string SubjectEn, string BodyEn, string? Link,
    DateTimeOffset CreatedAt, string Delivery, DateTimeOffset? DeliveredAt = null, DateTimeOffset? ReadAt = null, int Attempts = 0,
    string? LastError = null, IReadOnlyList<string>? SentTo = null)
{
    public const int MaxIdLength = 200;

    /// <summary>When the party received it: the first of its delivery by email and its first reading in the inbox.</summary>
    public DateTimeOffset? ReceivedAt => (DeliveredAt, ReadAt) switch
    {
        ({ } delivered, { } read) => delivered < read ? delivered : read,
        (var delivered, var read) => delivered ?? read,
    };
}

/// <summary>What a service hands the outbox: the party, the event's fixed id, its kind and words, and the API path it is about.</summary>
public sealed record NoticeDraft(Party To, string Id, string Kind, NoticeText Text, string? Link = null);

/// <summary>
/// The notices table: partition = the party's key (its inbox, read in one query), row = the notice id. Dead letters are
/// kept in partition "dead-letters" (row = party key + id), where the regulator lists them.
/// </summary>
public sealed class NoticeStore(StorageClients storage)
{
    public const string DeadLetters = "dead-letters";

    private TableClient Table => storage.Table(StorageNames.Tables.Notices);

    public async Task<(Notice Notice, ETag ETag)?> FindAsync(Party party, string id, CancellationToken cancellationToken)
    {
        if (!IsValidId(id)) return null;
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(party.Key, id, cancellationToken: cancellationToken);
        return row.HasValue ? (DocumentRows.Read<Notice>(row.Value!), row.Value!.ETag) : null;
    }

    /// <summary>The party's inbox: every notice, newest first.</summary>
    public async Task<IReadOnlyList<Notice>> InboxAsync(Party party, CancellationToken cancellationToken) =>
        (await Table.ReadPartitionAsync<Notice>(party.Key, cancellationToken)).OrderByDescending(n => n.CreatedAt).ThenBy(n => n.Id, StringComparer.Ordinal).ToList();

    /// <summary>Writes each notice that is not there yet; one already written (the step ran before) keeps its delivery and reading.</summary>
    /// <returns>The notices written now.</returns>
    public async Task<IReadOnlyList<Notice>> AddNewAsync(IReadOnlyList<Notice> notices, CancellationToken cancellationToken)
    {
        var written = new ConcurrentBag<Notice>();
        // One party's notices go in one transaction; a transaction that finds one of them there already falls back to one at a time.
        var groups = notices.GroupBy(n => n.Party, StringComparer.Ordinal).SelectMany(g => g.Chunk(TableBatches.MaxBatch));
        await Parallel.ForEachAsync(groups, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (group, ct) =>
        {
            if (group.Length > 1)
            {
                try
                {
                    await Table.SubmitTransactionAsync(group.Select(n => new TableTransactionAction(TableTransactionActionType.Add, ToEntity(n))), ct);
                    foreach (var n in group) written.Add(n);
                    return;
                }
                catch (TableTransactionFailedException error) when (error.Status == 409)
                {
                }
            }
            foreach (var notice in group)
            {
                if (await Table.TryWriteAsync(ToEntity(notice), null, ct)) written.Add(notice);
            }
        });
        return written.ToList();
    }

    /// <summary>Replaces the notice if it is unchanged since read; false when someone changed it first (read again).</summary>
    public Task<bool> TryReplaceAsync(Notice notice, ETag etag, CancellationToken cancellationToken) =>
        Table.TryWriteAsync(ToEntity(notice), etag, cancellationToken);

    public Task AddDeadLetterAsync(Notice notice, CancellationToken cancellationToken) =>
        Table.UpsertDocumentAsync(DeadLetters, DeadLetterKey(notice), notice, cancellationToken);

    public async Task<IReadOnlyList<Notice>> DeadLettersAsync(CancellationToken cancellationToken) =>
        (await Table.ReadPartitionAsync<Notice>(DeadLetters, cancellationToken)).OrderByDescending(n => n.CreatedAt).ToList();

    /// <summary>Notices owed an email since before <paramref name="createdBefore"/>: their queue message was lost (or is still on its way).</summary>
    public async IAsyncEnumerable<Notice> OwedAsync(DateTimeOffset createdBefore, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"Delivery eq {"pending"} and CreatedAt lt {createdBefore}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken)) yield return DocumentRows.Read<Notice>(row);
    }

    /// <summary>Ids are the events' own keys: letters, digits, '-', '.' and '_' (no table-key characters, nothing to escape).</summary>
    public static bool IsValidId(string? id) =>
        id is { Length: > 0 and <= Notice.MaxIdLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_');

    private static TableEntity ToEntity(Notice n)
    {
        var entity = DocumentRows.Entity(n.Party, n.Id, n);
        entity["Delivery"] = n.Delivery; // columns the sweep filters on
        entity["CreatedAt"] = n.CreatedAt;
        return entity;
    }

    private static string DeadLetterKey(Notice n) => $"{n.Party.Replace(':', '_')}_{n.Id}";
}

/// <summary>
/// Turns the events of a step into notices: written in the same step as the event (after it, with the event's fixed id,
/// so a step that is run again after a failure writes them then, and one that failed before the event writes none), and
/// put on the delivery queue when an email relay is configured.
/// </summary>
public sealed class NoticeOutbox(NoticeStore store, StorageClients storage, NoticeSettings settings, TimeProvider clock)
{
    /// <summary>Ids per queue message: well inside a message's 64 KiB.</summary>
    private const int IdsPerMessage = 100;

    public Task PublishAsync(NoticeDraft draft, CancellationToken cancellationToken) => PublishAsync([draft], cancellationToken);

    public async Task PublishAsync(IReadOnlyCollection<NoticeDraft> drafts, CancellationToken cancellationToken)
    {
        if (drafts.Count == 0) return;
        var now = clock.GetUtcNow();
        var delivery = settings.Smtp is null ? "in-app" : "pending";
        var notices = drafts
            .Select(d => d with { Id = KeyOf(d.Id) })
            .DistinctBy(d => (d.To.Key, d.Id))
            .Select(d => new Notice(d.Id, d.To.Key, d.Kind, d.Text.SubjectZh, d.Text.BodyZh, d.Text.SubjectEn, d.Text.BodyEn, d.Link, now, delivery))
            .ToList();
        var written = await store.AddNewAsync(notices, cancellationToken);
        if (settings.Smtp is not null) await EnqueueAsync(written, cancellationToken);
    }

    /// <summary>
    /// The event's id as a row key: ids the platform makes are already keys; one that carries other characters (a
    /// caller's own id) has them replaced, and a long one is cut and made unique by its hash.
    /// </summary>
    public static string KeyOf(string eventId)
    {
        if (NoticeStore.IsValidId(eventId)) return eventId;
        var safe = new string(eventId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '_').ToArray());
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(eventId)))[..16];
        return $"{safe[..Math.Min(safe.Length, Notice.MaxIdLength - 17)]}-{hash}";
    }

    /// <summary>Puts the notices on the delivery queue, a message per party and hundred notices.</summary>
    public async Task EnqueueAsync(IEnumerable<Notice> notices, CancellationToken cancellationToken)
    {
        var queue = storage.Queue(StorageNames.Queues.NoticeDelivery);
        var messages = notices.GroupBy(n => n.Party, StringComparer.Ordinal)
            .SelectMany(g => g.Select(n => n.Id).Chunk(IdsPerMessage).Select(ids => new DeliverNotices.Message(g.Key, ids)));
        await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (message, ct) => await queue.SendMessageAsync(JsonSerializer.Serialize(message, DeliverNotices.QueueJson), ct));
    }
}
