namespace BeijingEts.Functions.Verification;

public static class VerificationServices
{
    public static IServiceCollection AddVerification(this IServiceCollection services) => services
        .AddSingleton<VerifierStore>()
        .AddSingleton<VerifierEligibilityService>();
}
