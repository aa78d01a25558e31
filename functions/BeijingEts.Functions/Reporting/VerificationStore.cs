using System.Globalization;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Audit;

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

    public async Task<VerificationRecord?> FindAsync(string uscc, int year, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Key(year), uscc, cancellationToken: cancellationToken);
        return row.HasValue ? JsonSerializer.Deserialize<VerificationRecord>(row.Value!.GetString("Document"), Json) : null;
    }

    public Task PutAsync(VerificationRecord record, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(new TableEntity(Key(record.Year), record.Uscc) { ["Document"] = JsonSerializer.Serialize(record, Json) }, TableUpdateMode.Replace, cancellationToken);

    private static string Key(int year) => year.ToString("D4", CultureInfo.InvariantCulture);

    private static readonly JsonSerializerOptions Json = new(AuditLog.AuditJson) { Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) } };
}
