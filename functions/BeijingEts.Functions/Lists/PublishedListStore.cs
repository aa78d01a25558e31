using System.Globalization;
using BeijingEts.Functions.Audit;

namespace BeijingEts.Functions.Lists;

/// <summary>
/// One line of a published list. Name, district and industry are frozen as they were when it was published.
/// <c>Voluntary</c> marks a general reporting unit managed as a key unit by its approved opt-in (Art. 10 para 1).
/// </summary>
public sealed record ListEntry(string Uscc, string Name, string District, string Industry, string Category, decimal EnergyConsumptionTce, long CountedEmissionsT,
    bool Voluntary = false);

/// <summary>A published revision of a year's list (Art. 7): when, by whom, under which rules, how many of each category.</summary>
public sealed record ListRevision(int Year, int Revision, DateTimeOffset PublishedAt, string PublishedBy, string Hash, int KeyUnits, int ReportingUnits, ListRulesView Rules);

/// <summary>
/// Revisions of each year's list. A revision's entries are one JSON document in the published-lists container (the
/// record Art. 7 makes public), written in one go before the revision row is marked published, so a reader sees a
/// whole revision or none. Nothing published is ever changed, so read documents are cached.
/// </summary>
public sealed class PublishedListStore(StorageClients storage)
{
    private const string Writing = "writing";
    private const string Published = "published";
    private const int CachedRevisions = 16;
    private const int CachedListings = 50_000;

    public static readonly TimeSpan RecentFor = TimeSpan.FromSeconds(30);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int Year, int Revision), IReadOnlyList<ListEntry>> _entries = new();
    private readonly RecentReads<int, ListRevision> _recent = new(RecentFor);

    /// <summary>A unit's line on a published revision, or that it has none: neither ever changes, so both are kept for good.</summary>
    private sealed record Listing(ListEntry? Entry);

    // A reporting season asks for the same units' lines over and over; kept apart from the revision documents, which
    // other years' reads push out of their 16 places.
    private readonly RecentReads<(int Year, int Revision, string Uscc), Listing> _listings = new(TimeSpan.MaxValue, CachedListings);

    private TableClient Revisions => storage.Table(StorageNames.Tables.ListRevisions);

    private sealed record Document(ListRevision Revision, IReadOnlyList<ListEntry> Entries);

    public async Task<IReadOnlyList<ListRevision>> RevisionsAsync(int year, CancellationToken cancellationToken)
    {
        var partition = DocumentRows.YearKey(year);
        var revisions = new List<ListRevision>();
        await foreach (var row in Revisions.QueryAsync<TableEntity>(r => r.PartitionKey == partition, cancellationToken: cancellationToken))
        {
            if (row.GetString("State") == Published) revisions.Add(FromEntity(year, row));
        }
        return revisions.OrderBy(r => r.Revision).ToList();
    }

    /// <summary>The year's newest published revision: the list in force for it.</summary>
    public async Task<ListRevision?> LatestRevisionAsync(int year, CancellationToken cancellationToken) =>
        (await RevisionsAsync(year, cancellationToken)).LastOrDefault();

    /// <summary>
    /// <see cref="LatestRevisionAsync"/> as read within <see cref="RecentFor"/>: a revision published by this instance is
    /// seen at once, one published by another within that time. For the many reads of a reporting season (who reports).
    /// </summary>
    public Task<ListRevision?> RecentRevisionAsync(int year, CancellationToken cancellationToken) =>
        _recent.GetAsync(year, ct => LatestRevisionAsync(year, ct), cancellationToken);

    /// <summary>The newest revision of the most recent year that has a published list.</summary>
    public async Task<ListRevision?> LatestAsync(CancellationToken cancellationToken)
    {
        ListRevision? latest = null;
        await foreach (var row in Revisions.QueryAsync<TableEntity>(r => r.RowKey != "", cancellationToken: cancellationToken))
        {
            if (row.GetString("State") != Published) continue;
            var revision = FromEntity(int.Parse(row.PartitionKey, CultureInfo.InvariantCulture), row);
            if (latest is null || (revision.Year, revision.Revision).CompareTo((latest.Year, latest.Revision)) > 0) latest = revision;
        }
        return latest;
    }

    /// <summary>The unit's line on a published revision, if it has one.</summary>
    public async Task<ListEntry?> EntryAsync(int year, int revision, string uscc, CancellationToken cancellationToken) =>
        (await _listings.GetAsync((year, revision, uscc),
            async ct => new Listing((await EntriesAsync(year, revision, ct)).FirstOrDefault(e => e.Uscc == uscc)), cancellationToken))!.Entry;

    /// <summary>A published revision's entries, sorted by USCC.</summary>
    public async Task<IReadOnlyList<ListEntry>> EntriesAsync(int year, int revision, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue((year, revision), out var cached)) return cached;
        var content = await DocumentBlob(year, revision).DownloadContentAsync(cancellationToken);
        var entries = content.Value.Content.ToObjectFromJson<Document>(AuditLog.AuditJson)!.Entries;
        if (_entries.Count >= CachedRevisions) _entries.Clear();
        _entries[(year, revision)] = entries;
        return entries;
    }

    /// <summary>Takes the next free revision number for the year, marked as being written.</summary>
    public async Task<(int Revision, ETag ETag)> ReserveAsync(int year, CancellationToken cancellationToken)
    {
        var partition = DocumentRows.YearKey(year);
        var highest = 0;
        await foreach (var row in Revisions.QueryAsync<TableEntity>(r => r.PartitionKey == partition, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            highest = Math.Max(highest, int.Parse(row.RowKey, CultureInfo.InvariantCulture));
        }
        for (var revision = highest + 1; ; revision++)
        {
            try
            {
                var added = await Revisions.AddEntityAsync(new TableEntity(partition, RevisionKey(revision)) { ["State"] = Writing }, cancellationToken);
                return (revision, added.Headers.ETag ?? ETag.All);
            }
            catch (RequestFailedException error) when (error.Status == 409)
            {
                // Another publish took this number; take the next.
            }
        }
    }

    /// <summary>Writes a reserved revision's document; it never replaces one.</summary>
    public Task WriteAsync(ListRevision revision, IReadOnlyList<ListEntry> entries, CancellationToken cancellationToken) =>
        DocumentBlob(revision.Year, revision.Revision).UploadAsync(BinaryData.FromObjectAsJson(new Document(revision, entries), AuditLog.AuditJson), overwrite: false, cancellationToken);

    public async Task MarkPublishedAsync(ListRevision revision, ETag etag, CancellationToken cancellationToken)
    {
        await Revisions.UpdateEntityAsync(new TableEntity(DocumentRows.YearKey(revision.Year), RevisionKey(revision.Revision))
        {
            ["State"] = Published,
            ["PublishedAt"] = revision.PublishedAt,
            ["PublishedBy"] = revision.PublishedBy,
            ["Hash"] = revision.Hash,
            ["KeyUnits"] = revision.KeyUnits,
            ["ReportingUnits"] = revision.ReportingUnits,
            ["Rules"] = JsonSerializer.Serialize(revision.Rules),
        }, etag, TableUpdateMode.Replace, cancellationToken);
        _recent.Forget(revision.Year);
    }

    private static ListRevision FromEntity(int year, TableEntity row) => new(
        year,
        int.Parse(row.RowKey, CultureInfo.InvariantCulture),
        row.GetDateTimeOffset("PublishedAt") ?? default,
        row.GetString("PublishedBy"),
        row.GetString("Hash"),
        row.GetInt32("KeyUnits") ?? 0,
        row.GetInt32("ReportingUnits") ?? 0,
        JsonSerializer.Deserialize<ListRulesView>(row.GetString("Rules"))!);

    private static string RevisionKey(int revision) => revision.ToString("D6", CultureInfo.InvariantCulture);
    private BlobClient DocumentBlob(int year, int revision) =>
        storage.Container(StorageNames.Containers.PublishedLists).GetBlobClient($"{DocumentRows.YearKey(year)}/r{RevisionKey(revision)}.json");
}
