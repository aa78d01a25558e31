using System.Collections.Concurrent;
using System.Globalization;
using BeijingEts.Domain.Ledger;
using BeijingEts.Domain.Reporting;
using BeijingEts.Functions.Audit;
using Azure.Storage.Blobs.Models;

namespace BeijingEts.Functions.Reporting;

/// <summary>One immutable version of a unit's annual report, with the figures computed from it and how long it is kept.</summary>
public sealed record ReportVersion(
    string Uscc, int Year, int Version, DateTimeOffset SubmittedAt, string SubmittedBy, DateOnly RetainUntil,
    Tonnes DirectEmissionsT, Tonnes IndirectEmissionsT, Tonnes TotalEmissionsT, EmissionResult Calculation, AnnualReport Report);

/// <summary>
/// Reports: each version's document is a blob written once (never overwritten), and the reports table holds one row
/// per version plus a head row naming the latest, both in the unit-year's partition; a new version is added with the
/// head row's ETag, so two submissions at once get two numbers, never one. The head this instance last wrote is kept
/// with the ETag the write returned, so the next version is added without reading it again; when someone else wrote
/// since, the ETag no longer matches and the head is read. The head also says whether the unit's district ever asked it
/// to correct the year's report (Art. 23): only then does a new version look for requests to answer.
/// </summary>
public sealed class ReportStore(StorageClients storage)
{
    private const int KnownHeads = 50_000;

    /// <summary>The head row: the latest version (0 before the first), whether corrections were ever asked, its ETag.</summary>
    private sealed record Head(int Latest, bool CorrectionsAsked, ETag ETag);

    private readonly ConcurrentDictionary<(string Uscc, int Year), Head> _heads = new();

    private TableClient Table => storage.Table(StorageNames.Tables.Reports);

    private BlobContainerClient Documents => storage.Container(StorageNames.Containers.Reports);

    /// <summary>Adds the next version of the report; returns it with its number, and whether the unit's district ever asked it to correct the year's report.</summary>
    public async Task<(ReportVersion Report, bool CorrectionsAsked)> AddAsync(string uscc, int year, Func<int, ReportVersion> version, CancellationToken cancellationToken)
    {
        var head = _heads.TryGetValue((uscc, year), out var known) ? known : await HeadAsync(uscc, year, cancellationToken);
        while (true)
        {
            var next = version((head?.Latest ?? 0) + 1);
            // The blob name is unique to this attempt, so a lost race or a crash leaves at most an unreferenced document.
            var blobName = $"{next.Uscc}/{next.Year}/v{next.Version:D4}-{Guid.NewGuid():N}.json";
            await Documents.GetBlobClient(blobName).UploadAsync(BinaryData.FromObjectAsJson(next, AuditLog.AuditJson), new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                Metadata = new Dictionary<string, string> { ["retainUntil"] = next.RetainUntil.ToString("O", CultureInfo.InvariantCulture) },
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
            }, cancellationToken);
            var correctionsAsked = head?.CorrectionsAsked ?? false;
            var headEntity = HeadEntity(uscc, year, next.Version, correctionsAsked);
            try
            {
                var written = await Table.SubmitTransactionAsync(
                [
                    head is not null
                        ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, headEntity, head.ETag)
                        : new TableTransactionAction(TableTransactionActionType.Add, headEntity),
                    new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(Partition(uscc, year), VersionKey(uscc, year, next.Version))
                    {
                        ["Blob"] = blobName,
                        ["SubmittedAt"] = next.SubmittedAt,
                        ["TotalEmissionsT"] = next.TotalEmissionsT.Value,
                        ["RetainUntil"] = next.RetainUntil.ToString("O", CultureInfo.InvariantCulture),
                    }),
                ], cancellationToken);
                if (written.Value[0].Headers.ETag is { } etag) Remember(uscc, year, new Head(next.Version, correctionsAsked, etag));
                return (next, correctionsAsked);
            }
            catch (TableTransactionFailedException error) when (error.Status is 409 or 412)
            {
                // Another submission took this number (or the district asked for corrections): read the head and try again.
                _heads.TryRemove((uscc, year), out _);
                head = await HeadAsync(uscc, year, cancellationToken);
            }
        }
    }

    /// <summary>
    /// Notes on the head that the unit's district asked it to correct the year's report; called before the request is
    /// recorded, so every version filed after the request looks for it.
    /// </summary>
    public async Task MarkCorrectionsAskedAsync(string uscc, int year, CancellationToken cancellationToken)
    {
        _heads.TryRemove((uscc, year), out _);
        while (true)
        {
            var head = await HeadAsync(uscc, year, cancellationToken);
            if (head is { CorrectionsAsked: true }) return;
            if (await Table.TryWriteAsync(HeadEntity(uscc, year, head?.Latest ?? 0, correctionsAsked: true), head?.ETag, cancellationToken)) return;
        }
    }

    private void Remember(string uscc, int year, Head head)
    {
        // Counting the dictionary takes all its locks, so not on every submission: only when a unit-year is new to it.
        if (!_heads.ContainsKey((uscc, year)) && _heads.Count >= KnownHeads) _heads.Clear();
        _heads[(uscc, year)] = head;
    }

    public async Task<int> LatestVersionAsync(string uscc, int year, CancellationToken cancellationToken) =>
        (await HeadAsync(uscc, year, cancellationToken))?.Latest ?? 0;

    /// <summary>The head row; none before the first report. A head written before it said so counts as asked for corrections: look, as every version did.</summary>
    private async Task<Head?> HeadAsync(string uscc, int year, CancellationToken cancellationToken)
    {
        var head = await Table.GetEntityIfExistsAsync<TableEntity>(Partition(uscc, year), HeadKey(uscc, year), cancellationToken: cancellationToken);
        return head.HasValue ? new Head(head.Value!.GetInt32("Latest") ?? 0, head.Value.GetBoolean("CorrectionsAsked") ?? true, head.Value.ETag) : null;
    }

    private static TableEntity HeadEntity(string uscc, int year, int latest, bool correctionsAsked) =>
        new(Partition(uscc, year), HeadKey(uscc, year)) { ["Latest"] = latest, ["CorrectionsAsked"] = correctionsAsked };

    public async Task<ReportVersion?> FindAsync(string uscc, int year, int version, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition(uscc, year), VersionKey(uscc, year, version), cancellationToken: cancellationToken);
        if (!row.HasValue) return null;
        var content = await Documents.GetBlobClient(row.Value!.GetString("Blob")).DownloadContentAsync(cancellationToken);
        return content.Value.Content.ToObjectFromJson<ReportVersion>(AuditLog.AuditJson);
    }

    public async Task<ReportVersion?> FindLatestAsync(string uscc, int year, CancellationToken cancellationToken) =>
        await LatestVersionAsync(uscc, year, cancellationToken) is var latest and > 0 ? await FindAsync(uscc, year, latest, cancellationToken) : null;

    private static string Partition(string uscc, int year) => $"{uscc}-{DocumentRows.YearKey(year)}";

    // Row keys name their partition: Azurite finds a row by its row key first and then scans every row sharing it, so
    // keys common to all units ("head", "v000001") made each read cost in proportion to the number of units.
    private static string HeadKey(string uscc, int year) => $"head|{Partition(uscc, year)}";

    private static string VersionKey(string uscc, int year, int version) => $"v{version.ToString("D6", CultureInfo.InvariantCulture)}|{Partition(uscc, year)}";
}
