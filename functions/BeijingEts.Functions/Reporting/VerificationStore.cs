using BeijingEts.Domain.Ledger;

namespace BeijingEts.Functions.Reporting;

public enum VerificationStatus
{
    AwaitingUpload,
    Accepted,
    Rejected,
}

public enum VerificationOpinion
{
    Satisfactory,
    WithComments,
    NotVerified,
}

public enum VerificationDocumentKind
{
    /// <summary>The verification report, a PDF.</summary>
    Report,
    /// <summary>The verification statement, JSON with the verified figures and the opinion.</summary>
    Statement,
}

/// <summary>A document a verification body uploaded: where it is, its SHA-256, and until when it is kept (Art. 22).</summary>
public sealed record VerificationDocument(VerificationDocumentKind Kind, string BlobName, string Sha256, long SizeBytes, DateTimeOffset ReceivedAt, DateOnly RetainUntil);

/// <summary>What an accepted verification statement says.</summary>
public sealed record VerifiedFigures(Tonnes DirectEmissionsT, Tonnes IndirectEmissionsT, Tonnes TotalEmissionsT, VerificationOpinion Opinion,
    IReadOnlyList<JsonElement> Misstatements, IReadOnlyList<JsonElement> NonConformities);

/// <summary>
/// A unit-year's third-party verification (Art. 21, 24): the engagement (body, lead verifier, report version), until
/// when the links the body last obtained work, and what processing the uploads concluded. A new engagement replaces the
/// last one; the audit trail keeps every one, and the uploaded documents themselves are never removed.
/// </summary>
public sealed record VerificationRecord(
    string Uscc, int Year, string Engagement, string Verifier, string LeadVerifier, int ReportVersion, Tonnes ReportedEmissionsT,
    VerificationStatus Status, string? Reason, Tonnes? VerifiedEmissionsT, bool Flagged, VerifiedFigures? Statement,
    IReadOnlyList<VerificationDocument> Documents, DateTimeOffset IssuedAt, DateTimeOffset? LinksExpireAt, string IssuedBy, DateTimeOffset UpdatedAt)
{
    public VerificationDocument? Document(VerificationDocumentKind kind) => Documents.FirstOrDefault(d => d.Kind == kind);
}

/// <summary>One engagement of a verification body, as the body finds it: which unit-year it is for and when it was made.</summary>
public sealed record VerifierEngagement(string Verifier, string Engagement, string Unit, int Year, int ReportVersion, string LeadVerifier, DateTimeOffset EngagedAt);

/// <summary>
/// The verifications table: one row per year and unit, changed under its ETag; and each body's engagements
/// (partition "engagements-{verifier}", one row per engagement id), so a body finds its own without knowing the unit.
/// </summary>
public sealed class VerificationStore(StorageClients storage)
{
    private TableClient Table => storage.Table(StorageNames.Tables.Verifications);

    private static string EngagementPartition(string verifier) => "engagements-" + verifier;

    public Task AddEngagementAsync(VerifierEngagement engagement, CancellationToken cancellationToken) =>
        Table.AddEntityAsync(DocumentRows.Entity(EngagementPartition(engagement.Verifier), engagement.Engagement, engagement), cancellationToken);

    public Task<VerifierEngagement?> FindEngagementAsync(string verifier, string engagement, CancellationToken cancellationToken) =>
        Table.FindDocumentAsync<VerifierEngagement>(EngagementPartition(verifier), engagement, cancellationToken);

    /// <summary>The body's engagements, newest first.</summary>
    public async Task<IReadOnlyList<VerifierEngagement>> EngagementsAsync(string verifier, CancellationToken cancellationToken) =>
        (await Table.ReadPartitionAsync<VerifierEngagement>(EngagementPartition(verifier), cancellationToken)).OrderByDescending(e => e.EngagedAt).ToList();

    public Task<VerificationRecord?> FindAsync(string uscc, int year, CancellationToken cancellationToken) =>
        Table.FindDocumentAsync<VerificationRecord>(DocumentRows.YearKey(year), uscc, cancellationToken);

    /// <summary>The named units' verification records for the year, by unit: one range query.</summary>
    public Task<IReadOnlyDictionary<string, VerificationRecord>> FindManyAsync(int year, IReadOnlyCollection<string> units, CancellationToken cancellationToken) =>
        Table.ReadRowsAsync<VerificationRecord>(DocumentRows.YearKey(year), units, cancellationToken);

    public Task PutAsync(VerificationRecord record, CancellationToken cancellationToken) =>
        Table.UpsertDocumentAsync(DocumentRows.YearKey(record.Year), record.Uscc, record, cancellationToken);

    /// <summary>
    /// Applies a change to the current record under its ETag, reading again and retrying when another writer got there
    /// first (the report and the statement of one engagement can be processed at the same moment). A change that
    /// returns null writes nothing. Returns the record as written, or null when nothing was.
    /// </summary>
    public async Task<VerificationRecord?> UpdateAsync(string uscc, int year, Func<VerificationRecord, VerificationRecord?> change, CancellationToken cancellationToken)
    {
        var partition = DocumentRows.YearKey(year);
        while (true)
        {
            var found = await Table.GetEntityIfExistsAsync<TableEntity>(partition, uscc, cancellationToken: cancellationToken);
            if (!found.HasValue) return null;
            var changed = change(DocumentRows.Read<VerificationRecord>(found.Value!));
            if (changed is null) return null;
            try
            {
                await Table.UpdateEntityAsync(DocumentRows.Entity(partition, uscc, changed), found.Value!.ETag, TableUpdateMode.Replace, cancellationToken);
                return changed;
            }
            catch (RequestFailedException error) when (error.Status == 412)
            {
                // changed since it was read: read it again and reapply
            }
        }
    }
}
