using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using BeijingEts.Domain.Calendar;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Notifications;

/// <summary>A notice's words: Chinese first, the English beneath it in the email.</summary>
public sealed record NoticeText(string SubjectZh, string BodyZh, string SubjectEn, string BodyEn);

/// <summary>
/// One notice to one party about one event. The id is fixed by the event (<c>allocation-pre-2025</c>,
/// <c>check-{id}-signed-off</c>), so a step that runs again writes the same notice, never a second one.
/// </summary>
/// <remarks>
/// <c>Delivery</c>: <c>pending</c> (an email is owed), <c>sending</c> (a worker holds it until <c>ClaimedUntil</c>),
/// <c>sent</c>, <c>retrying</c> (the relay failed; tried again at <c>NextAttemptAt</c>), <c>dead-lettered</c> (it never
/// went; the regulator sees it in the dead letters and can send it again), <c>no-contacts</c> (the party registered no
/// address), <c>in-app</c> (no email relay is configured). Whatever the delivery, the notice is in the inbox.
/// <c>AlsoTo</c>: addresses the email goes to besides the party's contacts at delivery (a contacts change tells the
/// previous ones).
/// </remarks>
public sealed record Notice(
    string Id, string Party, string Kind, string SubjectZh, string BodyZh, string SubjectEn, string BodyEn, string? Link,
    DateTimeOffset CreatedAt, string Delivery, DateTimeOffset? DeliveredAt = null, DateTimeOffset? ReadAt = null, int Attempts = 0,
    string? LastError = null, IReadOnlyList<string>? SentTo = null, DateTimeOffset? ClaimedUntil = null, DateTimeOffset? NextAttemptAt = null,
    IReadOnlyList<string>? Refused = null, IReadOnlyList<Contact>? AlsoTo = null)
{
    public const int MaxIdLength = 200;

    /// <summary>Still owed an email: waiting, being sent (its claim may have lapsed), or waiting to be tried again.</summary>
    public bool IsOwed => DeliveredAt is null && Delivery is "pending" or "sending" or "retrying";

    /// <summary>Who its email goes to: the party's contacts now and the notice's own extra recipients, each address once.</summary>
    public IReadOnlyList<Contact> Recipients(IReadOnlyList<Contact> contacts) =>
        contacts.Concat(AlsoTo ?? []).DistinctBy(c => c.Email, StringComparer.OrdinalIgnoreCase).ToList();
}

/// <summary>
/// When a party received a notice, for a window the law counts from receipt (Art. 15): the first of its email's
/// delivery, its first reading in the inbox, and the day it counts as received having sat in the inbox for
/// <see cref="NoticeSettings.DeemedReceiptWorkingDays"/> working days (so an unread, un-emailed notice still starts it).
/// </summary>
public static class NoticeReceipt
{
    public static (DateOnly On, string How)? Of(Notice notice, WorkingDayCalendar calendar, int deemedWorkingDays)
    {
        var ways = new List<(DateOnly On, string How)>();
        if (notice.DeliveredAt is { } delivered) ways.Add((BeijingTime.DateOf(delivered), "its email was delivered"));
        if (notice.ReadAt is { } read) ways.Add((BeijingTime.DateOf(read), "it was read in the inbox"));
        try
        {
            ways.Add((calendar.AddWorkingDays(BeijingTime.DateOf(notice.CreatedAt), deemedWorkingDays), $"it counts as received {deemedWorkingDays} working days after it reached the inbox"));
        }
        catch (CalendarYearMissingException)
        {
            // No calendar for the year yet: only an actual delivery or reading counts.
        }
        return ways.Count == 0 ? null : ways.MinBy(w => w.On);
    }
}

/// <summary>What a service hands the outbox: the party, the event's fixed id, its kind and words, and the API path it is about.</summary>
/// <remarks><c>AlsoTo</c>: addresses its email goes to besides the party's contacts (see <see cref="Notice.AlsoTo"/>).</remarks>
public sealed record NoticeDraft(Party To, string Id, string Kind, NoticeText Text, string? Link = null, IReadOnlyList<Contact>? AlsoTo = null);

/// <summary>
/// The notices table: partition = the party's key (its inbox, read in one query), row = the notice id. Dead letters are
/// kept in partition "dead-letters" (row = party key + id), where the regulator lists them; partition "owed" indexes the
/// notices still owed an email (row = party key + id, with the time it is due).
/// </summary>
public sealed class NoticeStore(StorageClients storage)
{
    public const string DeadLetters = "dead-letters";
    public const string Owed = "owed";

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

    /// <summary>
    /// When each of a shared inbox's notices was read by this person (<see cref="Party.IsShared"/>): partition
    /// "{party}|read|{hash of the person's id}", row = the notice id. Party keys have no '|', so no inbox is one of these.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, DateTimeOffset>> ReadByAsync(Party party, string person, CancellationToken cancellationToken)
    {
        var reads = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {ReadsOf(party, person)}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, select: ["RowKey", "ReadAt"], cancellationToken: cancellationToken))
        {
            if (row.GetDateTimeOffset("ReadAt") is { } at) reads[row.RowKey] = at;
        }
        return reads;
    }

    /// <summary>Records the person's first reading of the notice; the time of the first, whether now or before.</summary>
    public async Task<(DateTimeOffset ReadAt, bool First)> MarkReadByAsync(Party party, string person, string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var partition = ReadsOf(party, person);
        if (await Table.TryWriteAsync(new TableEntity(partition, id) { ["ReadAt"] = now }, null, cancellationToken)) return (now, true);
        var row = await Table.GetEntityAsync<TableEntity>(partition, id, cancellationToken: cancellationToken);
        return (row.Value.GetDateTimeOffset("ReadAt") ?? now, false);
    }

    private static string ReadsOf(Party party, string person) =>
        $"{party.Key}|read|{Digest.Hex(person, 32)}";

    /// <summary>Writes each notice that is not there yet; one already written (the step ran before) keeps its delivery and reading.</summary>
    /// <returns>The notices written now.</returns>
    public async Task<IReadOnlyList<Notice>> AddNewAsync(IReadOnlyList<Notice> notices, CancellationToken cancellationToken)
    {
        var written = new ConcurrentBag<Notice>();
        // One party's notices go in one transaction; a transaction that finds one of them there already falls back to one
        // at a time. A run's notices are mostly one a party (an allocation's, one a unit), each its own write: 32 at once.
        var groups = notices.GroupBy(n => n.Party, StringComparer.Ordinal).SelectMany(g => g.Chunk(TableBatches.MaxBatch));
        await Parallel.ForEachAsync(groups, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (group, ct) =>
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
    public async Task<bool> TryReplaceAsync(Notice notice, ETag etag, CancellationToken cancellationToken) =>
        await TryChangeAsync(notice, etag, cancellationToken) is not null;

    /// <summary>Replaces the notice if it is unchanged since read: its new ETag, or null when someone changed it first.</summary>
    public async Task<ETag?> TryChangeAsync(Notice notice, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            return (await Table.UpdateEntityAsync(ToEntity(notice), etag, TableUpdateMode.Replace, cancellationToken)).Headers.ETag;
        }
        catch (RequestFailedException error) when (error.Status is 404 or 412)
        {
            return null;
        }
    }

    public Task AddDeadLetterAsync(Notice notice, CancellationToken cancellationToken) =>
        Table.UpsertDocumentAsync(DeadLetters, IndexKey(notice.Party, notice.Id), notice, cancellationToken);

    public async Task DeleteDeadLetterAsync(Notice notice, CancellationToken cancellationToken) =>
        await Table.DeleteEntityAsync(DeadLetters, IndexKey(notice.Party, notice.Id), ETag.All, cancellationToken);

    /// <summary>
    /// Marks the notices owed an email from <paramref name="dueAt"/> in the "owed" partition: a small index (only what is in
    /// flight), so the sweep finds a notice whose queue message was lost with one query instead of scanning every inbox.
    /// </summary>
    public Task MarkOwedAsync(IEnumerable<(string Party, string Id)> notices, DateTimeOffset dueAt, CancellationToken cancellationToken) =>
        TableBatches.UpsertAsync(Table, notices.Select(n => new TableEntity(Owed, IndexKey(n.Party, n.Id)) { ["Party"] = n.Party, ["NoticeId"] = n.Id, ["DueAt"] = dueAt }),
            cancellationToken);

    /// <summary>Takes the notice off the owed index: sent, without contacts, or a dead letter.</summary>
    public async Task ClearOwedAsync(Notice notice, CancellationToken cancellationToken)
    {
        try
        {
            await Table.DeleteEntityAsync(Owed, IndexKey(notice.Party, notice.Id), ETag.All, cancellationToken);
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
        }
    }

    public async Task<IReadOnlyList<Notice>> DeadLettersAsync(CancellationToken cancellationToken) =>
        (await Table.ReadPartitionAsync<Notice>(DeadLetters, cancellationToken)).OrderByDescending(n => n.CreatedAt).ToList();

    /// <summary>The (party, id) of each notice owed an email that should have gone by <paramref name="dueBefore"/>: one query of the owed index.</summary>
    public async Task<IReadOnlyList<(string Party, string Id)>> OverdueAsync(DateTimeOffset dueBefore, CancellationToken cancellationToken)
    {
        var found = new List<(string, string)>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Owed} and DueAt lt {dueBefore}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken)) found.Add((row.GetString("Party"), row.GetString("NoticeId")));
        return found;
    }

    /// <summary>Ids are the events' own keys: letters, digits, '-', '.' and '_' (no table-key characters, nothing to escape).</summary>
    public static bool IsValidId(string? id) =>
        id is { Length: > 0 and <= Notice.MaxIdLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_');

    private static TableEntity ToEntity(Notice n)
    {
        return DocumentRows.Entity(n.Party, n.Id, n);
    }

    /// <summary>A notice's key in the dead-letter and owed partitions: its party and id ('|' is in neither).</summary>
    private static string IndexKey(string party, string id) => $"{party}|{id}";
}

/// <summary>
/// Turns the events of a step into notices: written in the same step as the event (after it, with the event's fixed id,
/// so a step that is run again after a failure writes them then, and one that failed before the event writes none), and
/// put on the delivery queue when an email relay is configured.
/// </summary>
public sealed class NoticeOutbox(NoticeStore store, StorageClients storage, NoticeSettings settings, TimeProvider clock, ILogger<NoticeOutbox> logger)
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
            .Select(d => new Notice(d.Id, d.To.Key, d.Kind, d.Text.SubjectZh, d.Text.BodyZh, d.Text.SubjectEn, d.Text.BodyEn, d.Link, now, delivery, AlsoTo: d.AlsoTo))
            .ToList();
        var written = await store.AddNewAsync(notices, cancellationToken);
        if (settings.Smtp is null || written.Count == 0) return;
        await store.MarkOwedAsync(written.Select(n => (n.Party, n.Id)), now, cancellationToken);
        try
        {
            await EnqueueAsync(written, TimeSpan.Zero, cancellationToken);
        }
        catch (RequestFailedException error)
        {
            // The event and its notices are written and the notices marked owed: the sweep queues them. A queue that did
            // not answer must not fail the step that made them.
            logger.LogWarning(error, "Queueing {Count} notices failed; the owed-notice sweep sends them.", written.Count);
        }
    }

    /// <summary>
    /// The event's id as a row key: ids the platform makes are already keys; one that carries other characters (a
    /// caller's own id) has them replaced, and a long one is cut and made unique by its hash.
    /// </summary>
    public static string KeyOf(string eventId)
    {
        if (NoticeStore.IsValidId(eventId)) return eventId;
        var safe = new string(eventId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '_').ToArray());
        var hash = Digest.Hex(eventId, 16);
        return $"{safe[..Math.Min(safe.Length, Notice.MaxIdLength - 17)]}-{hash}";
    }

    public Task EnqueueAsync(IEnumerable<Notice> notices, TimeSpan delay, CancellationToken cancellationToken) =>
        EnqueueAsync(notices.Select(n => (n.Party, n.Id)), delay, cancellationToken);

    /// <summary>Puts the notices on the delivery queue, a message per party and hundred notices, visible after <paramref name="delay"/>.</summary>
    public async Task EnqueueAsync(IEnumerable<(string Party, string Id)> notices, TimeSpan delay, CancellationToken cancellationToken)
    {
        var queue = storage.Queue(StorageNames.Queues.NoticeDelivery);
        var messages = notices.GroupBy(n => n.Party, StringComparer.Ordinal)
            .SelectMany(g => g.Select(n => n.Id).Chunk(IdsPerMessage).Select(ids => new DeliverNotices.Message(g.Key, ids)));
        await Parallel.ForEachAsync(messages, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
            async (message, ct) => await queue.SendMessageAsync(JsonSerializer.Serialize(message, DeliverNotices.QueueJson), visibilityTimeout: delay, cancellationToken: ct));
    }
}
