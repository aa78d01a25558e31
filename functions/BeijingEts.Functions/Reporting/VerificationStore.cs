using BeijingEts.Domain.Ledger;

namespace BeijingEts.Functions.Reporting;

public enum VerificationStatus
{
    AwaitingUpload,
    Accepted,
    Rejected,
}

/// <summary>Where a unit-year's third-party verification stands (Art. 21, 24): what the upload processing last concluded.</summary>
public sealed record VerificationRecord(string Uscc, int Year, VerificationStatus Status, string? Reason, Tonnes? VerifiedEmissionsT, bool Flagged, DateTimeOffset UpdatedAt);

/// <summary>The verifications table: one row per unit and year.</summary>
public sealed class VerificationStore(StorageClients storage)
{
    private TableClient Table => storage.Table(StorageNames.Tables.Verifications);

    public Task<VerificationRecord?> FindAsync(string uscc, int year, CancellationToken cancellationToken) =>
        Table.FindDocumentAsync<VerificationRecord>(DocumentRows.YearKey(year), uscc, cancellationToken);

    public Task PutAsync(VerificationRecord record, CancellationToken cancellationToken) =>
        Table.UpsertDocumentAsync(DocumentRows.YearKey(record.Year), record.Uscc, record, cancellationToken);
}
